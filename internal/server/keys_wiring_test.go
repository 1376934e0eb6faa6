package server

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/keys"
)

// TestKeyPolicyFollowsTheFile: the rotation policy every replica and `broker keys` apply
// is keys.rotation's period, prepublish and retain and keys.algorithm as the file gives them,
// with the algorithms relying parties require beside it.
// Guards against: KeyPolicy Retain taken from Period
// Guards against: KeyPolicy Prepublish dropped
// Guards against: KeyPolicy Alg or Also dropped
func TestKeyPolicyFollowsTheFile(t *testing.T) {
	cfg := &config.Config{Keys: config.Keys{Algorithm: "ES256", Rotation: config.Rotation{
		Period: 100 * time.Hour, Prepublish: 7 * time.Hour, Retain: 13 * time.Hour}}}
	got := KeyPolicy(cfg)
	want := keys.Policy{Period: 100 * time.Hour, Prepublish: 7 * time.Hour,
		Retain: 13 * time.Hour, Alg: "ES256", Also: exchange.RequiredAlgorithms()}
	if got.Period != want.Period || got.Prepublish != want.Prepublish ||
		got.Retain != want.Retain || got.Alg != want.Alg || !slices.Equal(got.Also, want.Also) {
		t.Errorf("KeyPolicy = %+v, want %+v", got, want)
	}
}

// TestKeyEncryptionKeyErrorsHideTheValue: a key encryption key that is refused (from a
// file or from an environment variable) gives an error naming the file or the variable, never
// the value read: not the base64 text, whatever is wrong with it.
// Guards against: encryption_key_env parse error names the value instead of the variable
// Guards against: encryption_key_file parse error quoting the content
func TestKeyEncryptionKeyErrorsHideTheValue(t *testing.T) {
	const envName = "BROKER_TEST_KEK"
	short := base64.StdEncoding.EncodeToString([]byte("a-short-kek-16by"))
	notB64 := "not-base64-kek-value!!"
	for _, tc := range []struct {
		name, value string
		fromFile    bool
	}{
		{"short key in a variable", short, false},
		{"not base64 in a variable", notB64, false},
		{"short key in a file", short, true},
		{"not base64 in a file", notB64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &config.KeysRedis{EncryptionKeyEnv: envName}
			want := "keys.redis.encryption_key_env " + envName + ": "
			if tc.fromFile {
				r = &config.KeysRedis{EncryptionKeyFile: writeSecretFile(t, tc.value+"\n")}
				want = "keys.redis.encryption_key_file " + r.EncryptionKeyFile + ": "
			}
			lookup := func(name string) (string, bool) {
				if name == envName {
					return tc.value, true
				}
				return os.LookupEnv(name)
			}
			kek, err := keyEncryptionKey(r, lookup)
			if err == nil || kek != nil {
				t.Fatalf("keyEncryptionKey = %v, %v; want a refusal", kek != nil, err)
			}
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not begin %q", err, want)
			}
			if strings.Contains(err.Error(), tc.value) {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

// TestDefaultSweepEveryMinute: a replica on the in-memory run store started without a
// sweep interval drops expired runs every minute, so an untouched expired run is freed at
// most about a minute after it expires.
// Guards against: DefaultSweepInterval raised (time.Minute -> time.Hour)
func TestDefaultSweepEveryMinute(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte("issuer: http://127.0.0.1:9\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer func() { _ = srv.Close() }()
	if srv.state.sweep == nil {
		t.Fatal("the in-memory run store has no sweep")
	}
	if srv.sweepEvery != time.Minute {
		t.Errorf("expired runs are dropped every %s, want every %s", srv.sweepEvery, time.Minute)
	}
}
