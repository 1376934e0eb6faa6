package vaulttransit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
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

// recordingFakeVault serves a fakeVault on loopback until t ends, recording the value of the
// request header named header on every request; it returns the server's URL, the fake and a
// function listing the values recorded.
func recordingFakeVault(t *testing.T, header string) (string, *fakeVault, func() []string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeVault{t: t, key: key, namespaces: map[string][]string{}}
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(header))
		mu.Unlock()
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, f, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestNewRefusesIncompleteConfig: New refuses a configuration without a Transit mount, or
// with a negative timeout, as a configuration error (not as Vault being unavailable), before it
// sends the token anywhere.
// Guards against: backend.go:`cfg.Mount == ""` dropped from the required fields
// Guards against: backend.go:negative-timeout check dropped
func TestNewRefusesIncompleteConfig(t *testing.T) {
	addr, _, seen := recordingFakeVault(t, "X-Vault-Token")
	for name, cfg := range map[string]vaulttransit.Config{
		"no mount": {Address: addr, Key: "k", Alg: keys.ES256, Token: "t"},
		"negative timeout": {Address: addr, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
			Timeout: -time.Second},
	} {
		b, err := vaulttransit.New(context.Background(), cfg)
		if err == nil {
			_ = b.Close()
			t.Errorf("New with %s = nil, want an error", name)
			continue
		}
		if errors.Is(err, keys.ErrUnavailable) {
			t.Errorf("New with %s = %v; want a configuration error, not keys.ErrUnavailable",
				name, err)
		}
	}
	if n := len(seen()); n != 0 {
		t.Errorf("the refused configurations sent %d requests to Vault, want none", n)
	}
}

// TestMountSlashesTrimmed: a Transit mount given with leading and trailing slashes
// ("/transit/") names the same mount: errors name the key as <mount>/keys/<name>, and keys are
// created there and sign.
// Guards against: backend.go:strings.Trim of cfg.Mount dropped
func TestMountSlashesTrimmed(t *testing.T) {
	v, token := startVault(t)
	name := uniqueKey()
	b := newBackend(t, v, token, vaulttransit.Config{Mount: "/" + mount + "/", Key: name,
		Alg: keys.ES256})
	err := b.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), " "+mount+"/keys/"+name+" ") {
		t.Fatalf("Ping before the key exists = %v; want an error naming %s/keys/%s",
			err, mount, name)
	}
	k, err := b.Generate(context.Background(), keys.ES256, time.Now())
	if err != nil {
		t.Fatalf("Generate with mount %q: %v", "/"+mount+"/", err)
	}
	keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())
	if err := b.Ping(context.Background()); err != nil {
		t.Fatalf("Ping with mount %q: %v", "/"+mount+"/", err)
	}
}

// TestNoHeadersFromEnvironment: the headers of VAULT_HEADERS, set for the vault CLI, are
// not sent with broker's calls to Vault, which carry X-Vault-Request.
// Guards against: client.go:vc.SetHeaders(X-Vault-Request only) dropped
func TestNoHeadersFromEnvironment(t *testing.T) {
	t.Setenv("VAULT_HEADERS", `{"X-Probe-Env":"from-env"}`)
	addr, _, seen := recordingFakeVault(t, "X-Probe-Env")
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: addr, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if err := b.Ping(context.Background()); !errors.Is(err, keys.ErrUnavailable) {
		t.Fatalf("Ping before the key exists = %v, want keys.ErrUnavailable", err)
	}
	for _, h := range seen() {
		if h != "" {
			t.Fatalf("a request carried X-Probe-Env %q from VAULT_HEADERS", h)
		}
	}
}

// TestEightCharTokenRedacted: a Vault error answer that quotes the backend's token is
// redacted for a token of 8 characters too.
// Guards against: client.go:`len(token) >= 8` -> `len(token) > 8` in vaultSays
func TestEightCharTokenRedacted(t *testing.T) {
	const token = "s.8chars"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"errors":["permission denied for `+token+`"]}`)
	}))
	t.Cleanup(srv.Close)
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: token,
	})
	if err == nil {
		_ = b.Close()
		t.Fatal("New with a refused token = nil, want an error")
	}
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("New error %q quotes the 8-character token or redacts nothing", err)
	}
}

// exactAnswer rewrites every answer of Vault's to lookup-self so that its body is exactly size
// bytes (valid JSON, padded), and carries every call to Vault.
type exactAnswer struct{ size int }

func (p exactAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/lookup-self") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	text := strings.TrimRight(string(body), "\n")
	i := strings.LastIndexByte(text, '}')
	pad := p.size - len(text) - len(`,"padding":""`)
	text = text[:i] + `,"padding":"` + strings.Repeat("x", pad) + `"` + text[i:]
	resp.Body = io.NopCloser(strings.NewReader(text))
	resp.ContentLength = int64(len(text))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestAnswerCapIsInclusive: an answer body of exactly MaxResponseBytes is read; one byte
// more is refused.
// Guards against: client.go:`b.left < 0` -> `b.left <= 0` after the read in cappedBody.Read
func TestAnswerCapIsInclusive(t *testing.T) {
	v, token := startVault(t)
	for _, c := range []struct {
		size int
		ok   string
	}{{vaulttransit.MaxResponseBytes, "accepted"}, {vaulttransit.MaxResponseBytes + 1, "refused"}} {
		b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
			Address: v.Addr(), Mount: mount, Key: uniqueKey(), Token: token, Alg: keys.ES256,
			Transport: exactAnswer{size: c.size},
		})
		if err == nil {
			_ = b.Close()
		}
		if (err == nil) != (c.ok == "accepted") {
			t.Errorf("New with an answer of %d bytes = %v; want it %s", c.size, err, c.ok)
		}
	}
}
