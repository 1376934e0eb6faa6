package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/vault"
	"github.com/brokerhq/broker/internal/runs"
)

// fixedBrokerToken is a TokenSource handing out one fixed string: the fake Vault checks no
// token.
type fixedBrokerToken struct{}

func (fixedBrokerToken) Token(context.Context, exchange.TokenRequest) (string, error) {
	return "probe-broker-token", nil
}

// vaultFixedToken is vaultAsAWS with its broker tokens from fixedBrokerToken, so that
// the worker needs no issuer; Revoke is the Vault exchanger's own.
type vaultFixedToken struct{ vaultAsAWS }

func (p vaultFixedToken) Exchange(ctx context.Context, req exchange.Request) (
	exchange.Credentials, error) {
	req.Tokens = fixedBrokerToken{}
	return p.vaultAsAWS.Exchange(ctx, req)
}

// lateAnswerCase is one way the answer of a credentials request stops being deliverable while
// its success event is recorded.
type lateAnswerCase struct {
	name string
	// within is api.WorkerConfig.AnswerWithin (0: none).
	within time.Duration
	// writeTimeout is the test server's write timeout (0: none); the server sets AnswerWithin
	// from it, so the two are equal unless a case tests what the answer's write itself catches.
	writeTimeout time.Duration
	// hangUp makes the worker drop its connection as the success event is being recorded.
	hangUp bool
}

// askLate serves a credentials request for a TRACKED run in APPLYING through a Vault
// exchanger logging in to v, whose success event takes 900ms to record, and returns the
// answer's status (0 when none came).
func askLate(t *testing.T, v *revokingVault, c lateAnswerCase) int {
	t.Helper()
	h := newRunsHarness(t)
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	h.events.before = func(e api.Event) error {
		issued := e.Outcome != "denied" && e.Outcome != "error"
		if e.Action == "credentials.issue" && issued {
			if c.hangUp {
				hangUp()
			}
			time.Sleep(900 * time.Millisecond) // a slow trail, within any store timeout
		}
		return nil
	}
	x := vaultFixedToken{vaultAsAWS{Exchanger: vault.New(vault.Options{}), addr: v.URL}}
	rt := api.NewRouter()
	api.NewWorker(api.WorkerConfig{Store: h.store, Catalog: h.live,
		Logger: slog.New(slog.DiscardHandler), Events: h.events,
		Exchangers:   map[string]exchange.Exchanger{"aws": x},
		AnswerWithin: c.within}).Mount(rt)
	srv := httptest.NewUnstartedServer(rt)
	srv.Config.WriteTimeout = c.writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	run := h.start(t, runs.Tracked, runs.Applying)
	req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/credentials",
		bytes.NewReader([]byte(`{"provider":"aws"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestUndeliverableCredentialsAreRevoked: credentials whose answer can no longer reach the
// worker are not handed out, and the Vault token broker obtained for them is revoked, not left
// alive for its whole TTL while the trail says it was issued: whether the server's write timeout
// passed while the event was recorded (the connection closes with no answer; caught before the
// answer is written, or by its write when no answer deadline is set), or the worker hung up
// meanwhile.
func TestUndeliverableCredentialsAreRevoked(t *testing.T) {
	for _, c := range []lateAnswerCase{
		{name: "write timeout passed", within: 500 * time.Millisecond, writeTimeout: 500 * time.Millisecond},
		{name: "write timeout passed, caught by the write", writeTimeout: 500 * time.Millisecond},
		{name: "worker hung up", hangUp: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newRevokingVault(t)
			v.during = func() {}
			code := askLate(t, v, c)
			if code == http.StatusOK {
				t.Fatal("answered 200 after the write timeout or to a worker that left")
			}
			if !revokedWithin(v, 3*time.Second) {
				t.Fatalf("no credentials reached the worker (status %d; 0: none) "+
					"and its Vault token is left alive", code)
			}
		})
	}
}

// revokedWithin reports whether v received the revocation of withheldVaultToken within d.
func revokedWithin(v *revokingVault, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		v.mu.Lock()
		revoked := slices.Contains(v.revoked, withheldVaultToken)
		v.mu.Unlock()
		if revoked {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestCredentialsAnswerLeavesWholeAtFlush: broker counts credentials handed out once the
// flush of their answer succeeds, so that flush must send the whole answer. Framed by
// Content-Length it does; framed chunked (what a flush before the handler's end makes), the
// terminating chunk is written only after the credentials were counted handed out, and a
// worker whose connection breaks then reads a cut body (io.ReadAll: unexpected EOF) while
// broker neither records a failure nor revokes them.
func TestCredentialsAnswerLeavesWholeAtFlush(t *testing.T) {
	v := newRevokingVault(t)
	v.during = func() {}
	h := newRunsHarness(t)
	x := vaultFixedToken{vaultAsAWS{Exchanger: vault.New(vault.Options{}), addr: v.URL}}
	rt := api.NewRouter()
	api.NewWorker(api.WorkerConfig{Store: h.store, Catalog: h.live,
		Logger: slog.New(slog.DiscardHandler), Events: h.events,
		Exchangers: map[string]exchange.Exchanger{"aws": x}}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	run := h.start(t, runs.Tracked, runs.Applying)
	req, err := http.NewRequest("POST", srv.URL+"/v1/credentials",
		bytes.NewReader([]byte(`{"provider":"aws"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 {
		t.Errorf("credentials answer framed %v (Content-Length %d): its end is written after "+
			"the flush that counts it delivered", resp.TransferEncoding, resp.ContentLength)
	}
}
