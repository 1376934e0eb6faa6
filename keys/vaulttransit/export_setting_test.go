package vaulttransit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// fakeVaultBackend is a Backend of key k on mount transit, with an ES256 key, talking to a
// loopback fake of Vault that answers each path of answers with its JSON and any other path
// 404; it counts the token's renewals in renewals (answered 400) when that is not nil. Both end
// with the test.
func fakeVaultBackend(t *testing.T, answers map[string]any, renewals *atomic.Int32) *vaulttransit.Backend {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if a, ok := answers[r.URL.Path]; ok {
			_ = json.NewEncoder(w).Encode(a)
			return
		}
		if r.URL.Path == "/v1/auth/token/renew-self" && renewals != nil {
			renewals.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":["lease is not renewable"]}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[]}`))
	}))
	t.Cleanup(srv.Close)
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestUnreadableExportSettingIsRefused: a Transit key read whose exportable or
// allow_plaintext_backup setting is present but not a boolean (an answer broker cannot read)
// does not pass for a key that stays in Vault: Ping fails with ErrExportable.
// Guards against: transit.go:setting treating a non-boolean value as off
func TestUnreadableExportSettingIsRefused(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, setting := range []string{"exportable", "allow_plaintext_backup"} {
		t.Run(setting, func(t *testing.T) {
			b := fakeVaultBackend(t, map[string]any{
				"/v1/auth/token/lookup-self": map[string]any{"data": map[string]any{"renewable": false, "ttl": 0}},
				"/v1/transit/keys/k": map[string]any{"data": map[string]any{
					"type": "ecdsa-p256", "latest_version": 1, setting: "true",
					"keys": map[string]any{"1": map[string]any{
						"public_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
						"creation_time": time.Now().UTC().Format(time.RFC3339Nano),
					}},
				}},
			}, nil)
			err := b.Ping(context.Background())
			if !errors.Is(err, vaulttransit.ErrExportable) || !strings.Contains(err.Error(), setting+"=true") {
				t.Errorf("Ping with %s=\"true\" (a string) = %v, want ErrExportable naming the setting", setting, err)
			}
		})
	}
}

// TestNonRenewableTokenIsNeverRenewed: a token Vault says is not renewable is used as it is:
// the backend never asks Vault to renew it (each refusal would only warn in the log), even
// once half its TTL has passed.
func TestNonRenewableTokenIsNeverRenewed(t *testing.T) {
	var renewals atomic.Int32
	fakeVaultBackend(t, map[string]any{
		"/v1/auth/token/lookup-self": map[string]any{"data": map[string]any{"renewable": false, "ttl": 2, "creation_ttl": 2}},
	}, &renewals)
	time.Sleep(1500 * time.Millisecond) // past half the TTL, when a renewable one is renewed
	if n := renewals.Load(); n != 0 {
		t.Errorf("%d renewals of a token that is not renewable, want none", n)
	}
}
