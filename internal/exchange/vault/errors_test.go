package vault

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

func TestExchangeRefused(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(http.ResponseWriter, *http.Request, int)
		wantStatus int
		wantMsg    string
	}{
		{
			name:       "permission denied",
			answer:     refuse(http.StatusBadRequest, "permission denied"),
			wantStatus: http.StatusBadRequest,
			wantMsg:    "permission denied",
		},
		{
			name:       "token echoed back in the message",
			answer:     refuse(http.StatusBadRequest, "error validating token: invalid audience (aud) claim in "+testJWT),
			wantStatus: http.StatusBadRequest,
			wantMsg:    "error validating token: invalid audience (aud) claim in [redacted]",
		},
		{
			name:       "several errors",
			answer:     refuse(http.StatusForbidden, "permission denied", "role \"x\" could not be found"),
			wantStatus: http.StatusForbidden,
			wantMsg:    `permission denied; role "x" could not be found`,
		},
		{
			name:       "unknown mount",
			answer:     refuse(http.StatusNotFound, "no handler for route \"auth/jwt/login\". route entry not found."),
			wantStatus: http.StatusNotFound,
			wantMsg:    "no handler for route",
		},
		{
			name: "success without a client token",
			answer: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"x": 1}})
			},
			wantStatus: http.StatusOK,
			wantMsg:    "login answer holds no client token",
		},
		{
			name: "not JSON",
			answer: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte("<html>go away</html>"))
			},
			wantStatus: http.StatusUnauthorized,
			wantMsg:    "<html>go away</html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeVault(t, tt.answer)
			ex := New(Options{HTTPClient: fastClient()})
			_, err := ex.Exchange(context.Background(), exchange.Request{
				Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT},
			})
			var up *exchange.UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("error = %v (%T), want *exchange.UpstreamError", err, err)
			}
			if up.Provider != exchange.Vault || up.Status != tt.wantStatus || !strings.Contains(up.Message, tt.wantMsg) {
				t.Errorf("UpstreamError = %+v, want status %d and message containing %q", up, tt.wantStatus, tt.wantMsg)
			}
			if strings.Contains(err.Error(), testJWT) || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error holds the JWT: %v", err)
			}
			if n := len(fake.requests()); n != 1 {
				t.Errorf("fake saw %d requests, want 1 (a refusal is never retried)", n)
			}
		})
	}
}

func TestExchangeRetries(t *testing.T) {
	tests := []struct {
		name       string
		failures   int
		wantErr    bool
		wantStatus int
		wantCalls  int
	}{
		{name: "503 twice then success", failures: 2, wantCalls: 3},
		{name: "503 every time", failures: 99, wantErr: true, wantStatus: http.StatusServiceUnavailable, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= tt.failures {
					refuse(http.StatusServiceUnavailable, "Vault is sealed")(w, r, n)
					return
				}
				loginOK(w, r, n)
			})
			ex := New(Options{HTTPClient: fastClient()})
			creds, err := ex.Exchange(context.Background(), exchange.Request{
				Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT},
			})
			if n := len(fake.requests()); n != tt.wantCalls {
				t.Errorf("fake saw %d requests, want %d", n, tt.wantCalls)
			}
			for i, r := range fake.requests() {
				if r.Body["jwt"] != testJWT || r.Body["role"] != "read" {
					t.Errorf("attempt %d body = %v, want the same role and jwt", i+1, r.Body)
				}
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				if creds.Env[EnvToken] != clientToken {
					t.Errorf("VAULT_TOKEN = %q", creds.Env[EnvToken])
				}
				return
			}
			var up *exchange.UpstreamError
			if !errors.As(err, &up) || up.Status != tt.wantStatus || up.Message != "Vault is sealed" {
				t.Fatalf("error = %v, want UpstreamError %d \"Vault is sealed\"", err, tt.wantStatus)
			}
		})
	}
}

func TestExchangeTimeout(t *testing.T) {
	release := make(chan struct{})
	fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before fake.Close, which waits for its handlers
	const timeout = 300 * time.Millisecond
	ex := New(Options{HTTPClient: fastClient()})
	start := time.Now()
	_, err := ex.Exchange(context.Background(), exchange.Request{
		Integration: vaultIntegration(fake.URL, func(in *config.Integration) { in.Timeout = timeout }),
		Tokens:      &tokens{token: testJWT},
	})
	elapsed := time.Since(start)
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || up.Status != 0 || !strings.Contains(up.Message, "no answer within 300ms") {
		t.Fatalf("error = %v, want UpstreamError status 0 naming the timeout", err)
	}
	if elapsed > timeout+2*time.Second {
		t.Errorf("Exchange took %s with a %s timeout", elapsed, timeout)
	}
	if strings.Contains(err.Error(), testJWT) {
		t.Errorf("error holds the JWT: %v", err)
	}
}

func TestExchangeUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	_ = l.Close() // nothing listens there now
	ex := New(Options{HTTPClient: fastClient()})
	_, err = ex.Exchange(context.Background(), exchange.Request{
		Integration: vaultIntegration(addr, nil), Tokens: &tokens{token: testJWT},
	})
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || up.Status != 0 || !strings.HasPrefix(up.Message, "login request failed: ") ||
		!strings.Contains(up.Message, "connection refused") {
		t.Fatalf("error = %v, want UpstreamError status 0 naming the cause", err)
	}
	if strings.Contains(err.Error(), testJWT) {
		t.Error("the JWT reached the error")
	}
}

// TestExchangeIgnoresBrokerVaultEnv: broker's own VAULT_* variables must not leak into logins,
// and VAULT_WRAP_TTL does not ask Vault to wrap the login's answer (which would hold no token).
func TestExchangeIgnoresBrokerVaultEnv(t *testing.T) {
	other := newFakeVault(t, loginOK)
	t.Setenv("VAULT_WRAP_TTL", "5m")
	t.Setenv("VAULT_TOKEN", "hvs.brokers-own-token")
	t.Setenv("VAULT_NAMESPACE", "brokers-namespace")
	t.Setenv("VAULT_HEADERS", `{"X-Leak":"yes"}`)
	t.Setenv("VAULT_ADDR", other.URL)

	fake := newFakeVault(t, loginOK)
	ex := New(Options{HTTPClient: fastClient()})
	creds, err := ex.Exchange(context.Background(), exchange.Request{
		Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT},
	})
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("fake saw %d requests, want 1", len(reqs))
	}
	for _, h := range []string{"X-Vault-Token", "X-Vault-Namespace", "X-Leak", "X-Vault-Wrap-TTL"} {
		if v := reqs[0].Header.Values(h); len(v) != 0 {
			t.Errorf("login carried %s: %q", h, v)
		}
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("VAULT_ADDR's server saw %d requests", n)
	}
	if creds.Env[EnvAddr] != fake.URL || creds.Env[EnvNamespace] != "" {
		t.Errorf("Env = %v, want the integration's address and no namespace", creds.Env)
	}
}

func TestExchangeLocalErrors(t *testing.T) {
	errMint := errors.New("signing key unavailable")
	tests := []struct {
		name   string
		in     config.Integration
		tokens exchange.TokenSource
		want   error
		wantIn string
	}{
		{
			name:   "no vault block",
			in:     config.Integration{ID: "aws-ci", AWS: &config.AWS{}},
			tokens: &tokens{token: testJWT},
			wantIn: `integration "aws-ci" has no vault block`,
		},
		{
			name:   "no token source",
			in:     vaultIntegration("http://127.0.0.1:1", nil),
			wantIn: "no token source",
		},
		{
			name:   "bad address",
			in:     vaultIntegration("http://[::1", nil),
			tokens: &tokens{token: testJWT},
			wantIn: "vault client for",
		},
		{
			name:   "token not minted",
			in:     vaultIntegration("http://127.0.0.1:1", nil),
			tokens: &tokens{err: errMint},
			want:   errMint,
			wantIn: `mint token for audience "vault"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{}).Exchange(context.Background(), exchange.Request{Integration: tt.in, Tokens: tt.tokens})
			if err == nil {
				t.Fatal("Exchange succeeded")
			}
			var up *exchange.UpstreamError
			if errors.As(err, &up) {
				t.Errorf("error %v is an UpstreamError; a local failure is not Vault's refusal", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want it to wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantIn)
			}
		})
	}
}

// TestExchangeConcurrent shares one Exchanger, and one caller-supplied client without a
// transport, between concurrent logins (run with -race).
func TestExchangeConcurrent(t *testing.T) {
	fake := newFakeVault(t, loginOK)
	ex := New(Options{HTTPClient: &http.Client{}})
	in := vaultIntegration(fake.URL, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			creds, err := ex.Exchange(context.Background(), exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}})
			if err == nil && creds.Env[EnvToken] != clientToken {
				err = errors.New("wrong VAULT_TOKEN " + creds.Env[EnvToken])
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
