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
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/v1/auth/token/lookup-self":
					_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"renewable": false, "ttl": 0}})
				case "/v1/transit/keys/k":
					_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
						"type": "ecdsa-p256", "latest_version": 1, setting: "true",
						"keys": map[string]any{"1": map[string]any{
							"public_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
							"creation_time": time.Now().UTC().Format(time.RFC3339Nano),
						}},
					}})
				default:
					w.WriteHeader(http.StatusNotFound)
					_, _ = w.Write([]byte(`{"errors":[]}`))
				}
			}))
			defer srv.Close()
			b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
				Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
			})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			err = b.Ping(context.Background())
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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/token/lookup-self":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"renewable": false, "ttl": 2, "creation_ttl": 2}})
		case "/v1/auth/token/renew-self":
			renewals.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":["lease is not renewable"]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[]}`))
		}
	}))
	defer srv.Close()
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	time.Sleep(1500 * time.Millisecond) // past half the TTL, when a renewable one is renewed
	if n := renewals.Load(); n != 0 {
		t.Errorf("%d renewals of a token that is not renewable, want none", n)
	}
}
