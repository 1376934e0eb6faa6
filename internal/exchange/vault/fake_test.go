package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// testJWT is shaped like a compact JWS so that scrubbing by shape is exercised too.
const testJWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzcGFjZTpyb290In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"

// clientToken is the Vault token the fake hands out.
const clientToken = "hvs.fake-client-token-0123456789"

// recorded is one request the fake Vault received.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   map[string]any
}

// fakeVault is an httptest Vault whose answer to the n-th request (from 1) is given by answer.
type fakeVault struct {
	*httptest.Server
	answer func(w http.ResponseWriter, r *http.Request, n int)

	mu   sync.Mutex
	reqs []recorded
}

func newFakeVault(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *fakeVault {
	t.Helper()
	f := &fakeVault{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(data, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		n := len(f.reqs)
		f.mu.Unlock()
		f.answer(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVault) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// loginOK answers like Vault's JWT login.
func loginOK(w http.ResponseWriter, _ *http.Request, _ int) {
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": "1", "lease_duration": 0, "renewable": false, "data": nil,
		"auth": map[string]any{
			"client_token": clientToken, "accessor": "acc-123",
			"policies": []string{"default", "ci-read"}, "token_policies": []string{"default", "ci-read"},
			"metadata": map[string]string{"role": "read"}, "lease_duration": 600, "renewable": true,
		},
	})
}

// refuse answers with Vault's error body.
func refuse(status int, msgs ...string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, status, map[string]any{"errors": msgs})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokens is a TokenSource that hands out one fixed token and records the audiences asked.
type tokens struct {
	token string
	err   error

	mu        sync.Mutex
	audiences []string
}

func (s *tokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audiences = append(s.audiences, req.Audience)
	return s.token, s.err
}

func vaultIntegration(addr string, mod func(*config.Integration)) config.Integration {
	in := config.Integration{ID: "vault-ci", Space: "root", Vault: &config.Vault{Address: addr, Mount: "jwt", Role: "read"}}
	if mod != nil {
		mod(&in)
	}
	return in
}

// fastClient retries like production but without the long pauses.
func fastClient() *http.Client {
	return exchange.NewHTTPClient(exchange.ClientOptions{Backoff: 5 * time.Millisecond})
}

func TestExchangeLoginRequest(t *testing.T) {
	tests := []struct {
		name         string
		mod          func(*config.Integration)
		prefix       string
		wantPath     string
		wantAudience string
		wantNS       string
	}{
		{
			name:         "defaults",
			mod:          func(in *config.Integration) { in.Vault.Mount = "" },
			wantPath:     "/v1/auth/jwt/login",
			wantAudience: "vault",
		},
		{
			name: "custom mount, namespace and audience",
			mod: func(in *config.Integration) {
				in.Vault.Mount, in.Vault.Namespace, in.Audience = "ci/jwt/", "team-a", "https://vault.example.com"
			},
			wantPath:     "/v1/auth/ci/jwt/login",
			wantAudience: "https://vault.example.com",
			wantNS:       "team-a",
		},
		{
			name:         "address with a path prefix",
			prefix:       "/vault",
			wantPath:     "/vault/v1/auth/jwt/login",
			wantAudience: "vault",
		},
		{
			// Without a role the body leaves it out, and Vault logs in to the method's
			// default_role.
			name:         "no role",
			mod:          func(in *config.Integration) { in.Vault.Role = "" },
			wantPath:     "/v1/auth/jwt/login",
			wantAudience: "vault",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeVault(t, loginOK)
			in := vaultIntegration(fake.URL+tt.prefix, tt.mod)
			src := &tokens{token: testJWT}
			var logs bytes.Buffer
			ex := New(Options{HTTPClient: fastClient(), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

			before := time.Now()
			creds, err := ex.Exchange(context.Background(), exchange.Request{Integration: in, Tokens: src})
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}

			reqs := fake.requests()
			if len(reqs) != 1 {
				t.Fatalf("fake saw %d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.Method != http.MethodPost || got.Path != tt.wantPath {
				t.Errorf("request = %s %s, want POST %s", got.Method, got.Path, tt.wantPath)
			}
			wantBody := map[string]any{"jwt": testJWT}
			if in.Vault.Role != "" {
				wantBody["role"] = in.Vault.Role
			}
			if !maps.Equal(got.Body, wantBody) {
				t.Errorf("body = %v, want exactly %v", got.Body, wantBody)
			}
			if ns := got.Header.Get("X-Vault-Namespace"); ns != tt.wantNS {
				t.Errorf("X-Vault-Namespace = %q, want %q", ns, tt.wantNS)
			}
			if tok := got.Header.Values("X-Vault-Token"); len(tok) != 0 {
				t.Errorf("login carried X-Vault-Token %q", tok)
			}
			if got.Header.Get("X-Vault-Request") != "true" {
				t.Errorf("X-Vault-Request header missing")
			}
			if len(src.audiences) != 1 || src.audiences[0] != tt.wantAudience {
				t.Errorf("token audiences = %q, want [%q]", src.audiences, tt.wantAudience)
			}

			wantEnv := map[string]string{EnvAddr: in.Vault.Address, EnvToken: clientToken}
			if tt.wantNS != "" {
				wantEnv[EnvNamespace] = tt.wantNS
			}
			if !equalMaps(creds.Env, wantEnv) {
				t.Errorf("Env = %v, want %v", creds.Env, wantEnv)
			}
			lo, hi := before.Add(600*time.Second-time.Second), time.Now().Add(600*time.Second)
			if creds.ExpiresAt.Before(lo) || creds.ExpiresAt.After(hi) {
				t.Errorf("ExpiresAt = %v, want about now+10m", creds.ExpiresAt)
			}
			d, ok := creds.Detail.(Detail)
			if !ok {
				t.Fatalf("Detail is %T, want vault.Detail", creds.Detail)
			}
			if d.ClientToken != clientToken || d.Accessor != "acc-123" || d.LeaseDuration != 600 || !d.Renewable ||
				len(d.Policies) != 2 || d.Policies[1] != "ci-read" || !d.ExpiresAt.Equal(creds.ExpiresAt) {
				t.Errorf("Detail = %+v", d)
			}
			if bytes.Contains(logs.Bytes(), []byte(testJWT)) || bytes.Contains(logs.Bytes(), []byte(clientToken)) {
				t.Errorf("log holds a token:\n%s", logs.String())
			}
		})
	}
}

func TestDetailJSON(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		detail Detail
		want   string
	}{
		{
			name:   "expiring",
			detail: Detail{ClientToken: "t", Accessor: "a", LeaseDuration: 60, Renewable: true, Policies: []string{"default"}, ExpiresAt: at},
			want:   `{"clientToken":"t","accessor":"a","leaseDuration":60,"renewable":true,"policies":["default"],"expiresAt":"2030-01-02T03:04:05Z"}`,
		},
		{
			name:   "no expiry",
			detail: Detail{ClientToken: "t", Accessor: "a", Policies: []string{}},
			want:   `{"clientToken":"t","accessor":"a","leaseDuration":0,"renewable":false,"policies":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.detail)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON = %s, want %s", got, tt.want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
