package exchangetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// Env is what the suite hands a harness for one test.
type Env struct {
	// Faults must wrap the upstream handler the exchanger talks to.
	Faults *Faults
	// Logger should be the exchanger's own logger: the suite checks it never receives a secret.
	Logger *slog.Logger
}

// Harness is one exchanger under the contract.
type Harness struct {
	// Provider is the provider's name (package provider's table).
	Provider string
	// Start serves the provider's upstream (its emulator) on loopback behind env.Faults and
	// returns an exchanger on it, whose HTTP client retries like production with a short
	// backoff, and a request for a run the upstream grants credentials to. Each call starts
	// afresh.
	Start func(t *testing.T, env Env) (exchange.Exchanger, exchange.Request)
	// Target matches the upstream request that trades the broker token; faults go there.
	Target func(*http.Request) bool
	// Refusal is the provider's 4xx refusal carrying message as the upstream's own message.
	Refusal func(message string) Fault
	// Throttle is the provider's "slow down" answer.
	Throttle Fault
	// Holds reports whether the upstream still takes creds, for an exchanger whose credentials
	// can be taken back (exchange.Revoker); nil for any other.
	Holds func(t *testing.T, creds exchange.Credentials) bool
}

// Run runs the contract on h.
func Run(t *testing.T, h Harness) {
	t.Run("success", func(t *testing.T) { testSuccess(t, h) })
	t.Run("retries a 5xx", func(t *testing.T) { testRetriesServerError(t, h) })
	t.Run("retries throttling", func(t *testing.T) { testRetriesThrottling(t, h) })
	t.Run("gives up on a lasting 5xx", func(t *testing.T) { testLastingServerError(t, h) })
	t.Run("never retries a 4xx and passes its message on", func(t *testing.T) { testRefusal(t, h) })
	t.Run("never follows a redirect", func(t *testing.T) { testRedirect(t, h) })
	t.Run("caller cancellation", func(t *testing.T) { testCancel(t, h) })
	t.Run("integration timeout", func(t *testing.T) { testTimeout(t, h) })
	t.Run("concurrent calls", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("revocation", func(t *testing.T) { testRevoker(t, h) })
}

// fixture is one test's exchanger, wrapped as the server wraps it, and what it saw.
type fixture struct {
	t      *testing.T
	h      Harness
	faults *Faults
	logs   *syncBuffer
	tokens *recorder
	x      exchange.Exchanger
	req    exchange.Request
}

func start(t *testing.T, h Harness) *fixture {
	t.Helper()
	f := &fixture{t: t, h: h, logs: &syncBuffer{}}
	f.tokens = &recorder{}
	f.faults = newFaults(h.Target, f.tokens.last)
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inner, req := h.Start(t, Env{Faults: f.faults, Logger: log})
	// Registered after the harness's cleanups, so it runs first: a hanging request is released
	// before its server waits for it to end.
	t.Cleanup(f.faults.close)
	f.tokens.next = req.Tokens
	req.Tokens = f.tokens
	f.req = req
	f.x = exchange.Observe(inner, exchange.ObserveConfig{Provider: h.Provider, Logger: log})
	return f
}

func (f *fixture) exchange(ctx context.Context) (exchange.Credentials, error) {
	return f.x.Exchange(ctx, f.req)
}

// secrets are every broker token minted so far and the secret values of creds.
func (f *fixture) secrets(creds ...exchange.Credentials) []string {
	out := f.tokens.all()
	facts, _ := provider.Lookup(f.h.Provider)
	for _, c := range creds {
		for _, name := range facts.Secrets {
			if v := c.Env[name]; v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// checkNoSecrets fails when err or the log holds a token or a credential.
func (f *fixture) checkNoSecrets(err error, creds ...exchange.Credentials) {
	f.t.Helper()
	logs := f.logs.String()
	for _, s := range f.secrets(creds...) {
		if err != nil && strings.Contains(err.Error(), s) {
			f.t.Errorf("the error holds a secret: %v", err)
		}
		if strings.Contains(logs, s) {
			f.t.Errorf("the log holds a secret:\n%s", logs)
		}
	}
}

// outcomes returns the outcome of each exchange line of the log, in order.
func (f *fixture) outcomes() []string {
	f.t.Helper()
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(f.logs.String())), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			f.t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "exchange" {
			if rec["level"] != "INFO" || rec["provider"] != f.h.Provider || rec["integration"] != f.req.Integration.ID {
				f.t.Errorf("exchange line = %s", line)
			}
			out = append(out, rec["outcome"].(string))
		}
	}
	return out
}

func (f *fixture) wantOutcomes(want ...exchange.Outcome) {
	f.t.Helper()
	got := f.outcomes()
	if len(got) != len(want) {
		f.t.Fatalf("exchange log lines: %v, want outcomes %v", got, want)
	}
	for i := range want {
		if got[i] != string(want[i]) {
			f.t.Errorf("exchange log lines: %v, want outcomes %v", got, want)
		}
	}
}

func (f *fixture) wantCalls(n int) {
	f.t.Helper()
	if got := f.faults.Calls(); got != n {
		f.t.Errorf("upstream got %d target requests, want %d", got, n)
	}
}

func (f *fixture) checkCredentials(creds exchange.Credentials) {
	f.t.Helper()
	facts, _ := provider.Lookup(f.h.Provider)
	for _, name := range facts.Env {
		if creds.Env[name] == "" {
			f.t.Errorf("env %s is missing: %v", name, creds.Env)
		}
	}
	for name := range creds.Env {
		if !facts.MaySet(name) {
			f.t.Errorf("env %s is none of the provider's variables (provider.Facts Env and OptionalEnv)", name)
		}
	}
	if creds.ExpiresAt.IsZero() && f.h.Provider != provider.Vault {
		f.t.Error("credentials without an expiry")
	}
}

func upstream(t *testing.T, err error) *exchange.UpstreamError {
	t.Helper()
	var up *exchange.UpstreamError
	if !errors.As(err, &up) {
		t.Fatalf("error = %v (%T), want an *exchange.UpstreamError", err, err)
	}
	return up
}

func testSuccess(t *testing.T, h Harness) {
	f := start(t, h)
	creds, err := f.exchange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.checkCredentials(creds)
	f.wantCalls(1)
	f.wantOutcomes(exchange.Success)
	f.checkNoSecrets(nil, creds)
}

func testRetriesServerError(t *testing.T, h Harness) {
	f := start(t, h)
	f.faults.queue(Fault{Status: http.StatusServiceUnavailable, ContentType: "text/plain", Body: "try again"})
	creds, err := f.exchange(context.Background())
	if err != nil {
		t.Fatalf("a 503 then success: %v", err)
	}
	f.checkCredentials(creds)
	f.wantCalls(2)
	f.wantOutcomes(exchange.Success)
}

func testRetriesThrottling(t *testing.T, h Harness) {
	f := start(t, h)
	f.faults.queue(h.Throttle)
	creds, err := f.exchange(context.Background())
	if err != nil {
		t.Fatalf("throttled then success: %v", err)
	}
	f.checkCredentials(creds)
	f.wantCalls(2)
	f.wantOutcomes(exchange.Success)
}

func testLastingServerError(t *testing.T, h Harness) {
	f := start(t, h)
	f.faults.repeat(Fault{Status: http.StatusBadGateway, ContentType: "text/plain", Body: "down"})
	_, err := f.exchange(context.Background())
	up := upstream(t, err)
	if up.Status != http.StatusBadGateway || up.Denied() {
		t.Errorf("error = %+v, want a 502 that is not a refusal", up)
	}
	if calls := f.faults.Calls(); calls < 2 {
		t.Errorf("upstream got %d target requests: a 5xx is retried", calls)
	}
	f.wantOutcomes(exchange.Error)
	f.checkNoSecrets(err)
}

func testRefusal(t *testing.T, h Harness) {
	f := start(t, h)
	const message = "The role does not trust this subject"
	f.faults.repeat(h.Refusal(message + " (token " + Placeholder + ")"))
	_, err := f.exchange(context.Background())
	up := upstream(t, err)
	if !up.Denied() || up.Status < 400 || up.Status > 499 {
		t.Errorf("error = %+v, want a 4xx refusal", up)
	}
	if !strings.Contains(up.Message, message) || !strings.Contains(err.Error(), message) {
		t.Errorf("the upstream's message is not passed on: %v", err)
	}
	if len(f.tokens.all()) == 0 {
		t.Error("no broker token was minted")
	}
	f.wantCalls(1)
	f.wantOutcomes(exchange.Denied)
	f.checkNoSecrets(err)
}

// testRedirect: the upstreams never redirect the call that trades a broker token, so a
// redirect is an error answer. Following it would re-send the broker token (or the request
// signed for that endpoint) to another origin, possibly in clear text.
func testRedirect(t *testing.T, h Harness) {
	f := start(t, h)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		f.faults.queue(Fault{Status: status, Location: other.URL + "/elsewhere"})
		if _, err := f.exchange(context.Background()); err == nil {
			t.Errorf("an upstream answering %d was taken as a success", status)
		} else {
			t.Logf("%d: %v", status, err)
			f.checkNoSecrets(err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the exchanger followed the redirect: %d request(s) reached another origin", n)
	}
	f.wantCalls(3)
}

func testCancel(t *testing.T, h Harness) {
	f := start(t, h)
	f.req.Integration.Timeout = time.Minute
	f.faults.repeat(Fault{Hang: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.faults.arrived:
			cancel()
		case <-ctx.Done():
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := f.exchange(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
		if exchange.Classify(err) != exchange.Error {
			t.Errorf("a canceled exchange is %s", exchange.Classify(err))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the exchange did not return after its caller gave up")
	}
	f.wantCalls(1)
	f.wantOutcomes(exchange.Error)
}

func testTimeout(t *testing.T, h Harness) {
	f := start(t, h)
	f.req.Integration.Timeout = 300 * time.Millisecond
	f.faults.repeat(Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := f.exchange(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			t.Errorf("error = %v, want the integration's timeout, not the caller's", err)
		}
		if up := upstream(t, err); up.Status != 0 || up.Denied() {
			t.Errorf("error = %+v, want no answer (status 0)", up)
		}
	// Far below the 10s default timeout: the integration's own timeout was honoured.
	case <-time.After(5 * time.Second):
		t.Fatal("the exchange outlived the integration's 300ms timeout by far")
	}
	f.wantCalls(1)
	f.wantOutcomes(exchange.Error)
}

func testConcurrent(t *testing.T, h Harness) {
	f := start(t, h)
	const n = 8
	var wg sync.WaitGroup
	creds := make([]exchange.Credentials, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds[i], errs[i] = f.exchange(context.Background())
		}()
	}
	wg.Wait()
	facts, _ := provider.Lookup(h.Provider)
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("exchange %d: %v", i, errs[i])
		}
		f.checkCredentials(creds[i])
		for _, name := range facts.Secrets {
			if v := creds[i].Env[name]; v != "" && seen[v] {
				t.Errorf("two concurrent exchanges got the same %s", name)
			} else {
				seen[v] = true
			}
		}
	}
	f.wantCalls(n)
	f.wantOutcomes(exchange.Success, exchange.Success, exchange.Success, exchange.Success,
		exchange.Success, exchange.Success, exchange.Success, exchange.Success)
	f.checkNoSecrets(nil, creds...)
}

// recorder passes token requests on and keeps every token minted.
type recorder struct {
	next exchange.TokenSource

	mu     sync.Mutex
	tokens []string
}

func (r *recorder) Token(ctx context.Context, req exchange.TokenRequest) (string, error) {
	tok, err := r.next.Token(ctx, req)
	if err == nil {
		r.mu.Lock()
		r.tokens = append(r.tokens, tok)
		r.mu.Unlock()
	}
	return tok, err
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tokens) == 0 {
		return ""
	}
	return r.tokens[len(r.tokens)-1]
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
