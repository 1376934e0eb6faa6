package vaulttransit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// fakeVault answers the few Vault calls the backend makes for one ES256 Transit key "k" at
// "transit", signing with a key of its own, and records each request's X-Vault-Namespace. It
// exists because namespaces are a Vault Enterprise feature the open-source dev server lacks.
type fakeVault struct {
	t       *testing.T
	key     *ecdsa.PrivateKey
	mu      sync.Mutex
	created bool
	// namespaces maps "METHOD path" to the namespaces its requests carried.
	namespaces map[string][]string
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.namespaces[r.Method+" "+r.URL.Path] = append(f.namespaces[r.Method+" "+r.URL.Path], r.Header.Get("X-Vault-Namespace"))
	created := f.created
	f.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/v1/auth/token/lookup-self":
		f.json(w, map[string]any{"data": map[string]any{"renewable": true, "ttl": 2, "creation_ttl": 2}})
	case r.URL.Path == "/v1/auth/token/renew-self":
		f.json(w, map[string]any{"auth": map[string]any{"client_token": "t", "lease_duration": 2, "renewable": true}})
	case r.URL.Path == "/v1/transit/keys/k" && r.Method == http.MethodGet && !created:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[]}`)
	case r.URL.Path == "/v1/transit/keys/k" && r.Method == http.MethodGet:
		der, _ := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
		f.json(w, map[string]any{"data": map[string]any{"type": "ecdsa-p256", "latest_version": 1, "keys": map[string]any{
			"1": map[string]any{"public_key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
				"creation_time": time.Now().UTC().Format(time.RFC3339Nano)},
		}}})
	case r.URL.Path == "/v1/transit/keys/k":
		f.mu.Lock()
		f.created = true
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/v1/transit/sign/k/sha2-256":
		f.sign(w, body)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":["no handler"]}`)
	}
}

func (f *fakeVault) sign(w http.ResponseWriter, body []byte) {
	var req struct {
		Input      string `json:"input"`
		Marshaling string `json:"marshaling_algorithm"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("sign request: %v", err)
	}
	digest, _ := base64.StdEncoding.DecodeString(req.Input)
	var sig string
	if req.Marshaling == "jws" {
		r, s, _ := ecdsa.Sign(rand.Reader, f.key, digest)
		raw := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		sig = base64.RawURLEncoding.EncodeToString(raw)
	} else {
		der, _ := ecdsa.SignASN1(rand.Reader, f.key, digest)
		sig = base64.StdEncoding.EncodeToString(der)
	}
	f.json(w, map[string]any{"data": map[string]any{"signature": "vault:v1:" + sig, "key_version": 1}})
}

func (f *fakeVault) json(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// Config.Namespace is sent as X-Vault-Namespace on every request the backend makes: token
// lookup and renewal, key creation and reads, signatures.
func TestNamespaceOnEveryRequest(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f := &fakeVault{t: t, key: key, namespaces: map[string][]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t", Namespace: "team-a/platform",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	k, err := b.Generate(context.Background(), keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())
	digest := make([]byte, 32)
	sig, err := k.Signer.(keys.ContextSigner).SignJWS(context.Background(), digest)
	if err != nil || len(sig) != 64 {
		t.Fatalf("SignJWS = %d bytes, %v", len(sig), err)
	}
	if !ecdsa.Verify(&key.PublicKey, digest, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("SignJWS signature does not verify")
	}
	time.Sleep(1500 * time.Millisecond) // the token's 2 s TTL is renewed at 1 s

	f.mu.Lock()
	defer f.mu.Unlock()
	var paths []string
	for p, namespaces := range f.namespaces {
		paths = append(paths, p)
		for _, ns := range namespaces {
			if ns != "team-a/platform" {
				t.Errorf("%s sent X-Vault-Namespace %q, want team-a/platform", p, ns)
			}
		}
	}
	for _, want := range []string{"/v1/auth/token/lookup-self", "/v1/auth/token/renew-self", "GET /v1/transit/keys/k", "/v1/transit/sign/k/sha2-256"} {
		if !strings.Contains(strings.Join(paths, "\n"), want) {
			t.Errorf("no request to %s among %v", want, paths)
		}
	}
}
