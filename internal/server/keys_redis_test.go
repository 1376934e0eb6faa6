package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// TestRedisKeySetEncryptedAtRest checks that the key set a replica writes to Redis holds none of
// its private keys in a readable form, and opens with the configured key encryption key only.
func TestRedisKeySetEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis"})
	published := ts.srv.Keys().Snapshot().Published
	if len(published) == 0 {
		t.Fatal("no published key")
	}

	raw, err := redis.Client().Get(ctx, redisstore.DefaultPrefix+"keyset").Bytes()
	if err != nil {
		t.Fatalf("GET keyset: %v", err)
	}
	for _, needle := range []string{"PRIVATE KEY", "pkcs8"} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the key set in Redis holds %q", needle)
		}
	}
	var wantKIDs []string
	for _, k := range published {
		wantKIDs = append(wantKIDs, k.KID)
		der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, der) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(der))) {
			t.Errorf("the key set in Redis holds the private key of %s", k.KID)
		}
	}

	c, err := redisstore.Open(redisstore.Options{URL: redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	kek, err := redisstore.ParseKeyEncryptionKey([]byte(testKEK))
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.Keys(kek).Load(ctx)
	if err != nil {
		t.Fatalf("Load with the configured key: %v", err)
	}
	var gotKIDs []string
	for _, k := range set.Keys {
		gotKIDs = append(gotKIDs, k.KID)
	}
	slices.Sort(gotKIDs)
	slices.Sort(wantKIDs)
	if !slices.Equal(gotKIDs, wantKIDs) {
		t.Errorf("key set loaded with the configured key = %v, want the published %v", gotKIDs, wantKIDs)
	}
	other, err := redisstore.ParseKeyEncryptionKey([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Keys(other).Load(ctx); !errors.Is(err, redisstore.ErrKeySetOtherKey) {
		t.Errorf("Load with another key = %v, want ErrKeySetOtherKey", err)
	}
}

// TestRedisKeyBackendStartup checks that a replica on the redis key backend starts only with a
// usable key encryption key and a key set it can trust, and otherwise says why.
func TestRedisKeyBackendStartup(t *testing.T) {
	const envName = "BROKER_TEST_KEK"
	redis := redistest.Start(t)
	tests := []struct {
		name string
		// setup prepares Redis and the environment, and returns the keys.redis mapping.
		setup func(t *testing.T) string
		// want lists substrings of New's error; none means New succeeds.
		want []string
	}{
		{"key file", func(t *testing.T) string {
			return "{encryption_key_file: " + writeSecretFile(t, testKEK) + "}"
		}, nil},
		{"key variable", func(t *testing.T) string {
			t.Setenv(envName, strings.TrimSpace(testKEK))
			return "{encryption_key_env: " + envName + "}"
		}, nil},
		{"key file readable by others", func(t *testing.T) string {
			path := writeSecretFile(t, testKEK)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			return "{encryption_key_file: " + path + "}"
		}, []string{"keys.redis.encryption_key_file", "0644", "insecure permissions"}},
		{"key file owned by another user", func(t *testing.T) string {
			if os.Geteuid() != 0 {
				t.Skip("SKIPPED: chown to another user needs root")
			}
			path := writeSecretFile(t, testKEK)
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return "{encryption_key_file: " + path + "}"
		}, []string{"keys.redis.encryption_key_file", "uid 65534"}},
		{"missing key file", func(t *testing.T) string {
			return "{encryption_key_file: /nonexistent/broker-kek}"
		}, []string{"keys.redis.encryption_key_file", "/nonexistent/broker-kek"}},
		{"unset variable", func(t *testing.T) string {
			t.Setenv(envName, "")
			return "{encryption_key_env: " + envName + "}"
		}, []string{"environment variable " + envName + " is not set"}},
		{"short key", func(t *testing.T) string {
			t.Setenv(envName, base64.StdEncoding.EncodeToString(make([]byte, 16)))
			return "{encryption_key_env: " + envName + "}"
		}, []string{envName, "16 bytes, want 32"}},
		{"key set in clear from an older broker", func(t *testing.T) string {
			storeClearKeySet(t, redis)
			return "{encryption_key_file: " + writeSecretFile(t, testKEK) + "}"
		}, []string{"in clear", "DEL broker:keyset"}},
		{"key set encrypted under another key", func(t *testing.T) string {
			first := writeSecretFile(t, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
			srv, err := newRedisKeysServer(t, redis, "{encryption_key_file: "+first+"}")
			if err != nil {
				t.Fatal(err)
			}
			_ = srv.Close()
			return "{encryption_key_file: " + writeSecretFile(t, testKEK) + "}"
		}, []string{"encrypted under another key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := redis.Client().FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			srv, err := newRedisKeysServer(t, redis, tt.setup(t))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				_ = srv.Close()
				return
			}
			t.Logf("New: %v", err)
			if err == nil {
				_ = srv.Close()
				t.Fatalf("New succeeded, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(testKEK)) {
				t.Errorf("error %q quotes the key encryption key", err)
			}
		})
	}
}

// newRedisKeysServer builds a replica on redis whose keys.redis mapping is keysRedis.
func newRedisKeysServer(t *testing.T, redis *redistest.Server, keysRedis string) (*Server, error) {
	t.Helper()
	yaml := "issuer: http://127.0.0.1:1\nlisten: 127.0.0.1:0\nstore: {redis: {url: \"" + redis.URL() + "\"}}\n" +
		"keys: {backend: redis, algorithm: ES256, redis: " + keysRedis + "}\n"
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return New(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// storeClearKeySet stores a key set as brokers before encryption did: private keys in clear.
func storeClearKeySet(t *testing.T, redis *redistest.Server) {
	t.Helper()
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]any{"format": 1, "generation": 1, "keys": []map[string]any{
		{"kid": k.KID, "alg": k.Alg, "created": k.Created, "activates": k.Activates, "pkcs8": der},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := redis.Client().Set(context.Background(), redisstore.DefaultPrefix+"keyset", data, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisKeySetLostIsWrittenBack: Redis loses the key set (restarted empty, or a failover
// that lost the last save). The replicas hold it, and write it back: the JWKS keeps the key
// whose tokens are still valid, and tokens go on being signed by it, not by a key made at once
// (which relying parties that fetched the JWKS before would not know).
func TestRedisKeySetLostIsWrittenBack(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: "redis", keyRefresh: 50 * time.Millisecond})
	kids := func(ts *testServer) []string {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(get(t, ts.URL+"/.well-known/jwks", "").body, &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	before := kids(rs[0])
	if len(before) == 0 {
		t.Fatal("no key published")
	}
	if err := redis.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "the key set is back in Redis", func() bool {
		n, err := redis.Client().Exists(context.Background(), "broker:keyset").Result()
		return err == nil && n == 1
	})
	time.Sleep(200 * time.Millisecond) // a few refreshes of both replicas
	for i, ts := range rs {
		if got := kids(ts); !slices.Equal(got, before) {
			t.Errorf("replica %d publishes %v after the loss, want %v", i, got, before)
		}
		run := ts.createRun(t, "vpc-prod", "TRACKED")
		tok, code := ts.mint(t, run.RunToken, "")
		if code != 200 {
			t.Fatalf("replica %d: mint %d", i, code)
		}
		if kid, _ := jwtHeader(t, tok.Token)["kid"].(string); !slices.Contains(before, kid) {
			t.Errorf("replica %d signs with %s after the loss, not a key published before (%v)", i, kid, before)
		}
	}
}
