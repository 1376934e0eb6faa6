package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// twiceHandedMinter mints one broker token and hands it to the worker under two names (as an
// exchange that sets both a token variable and a file-less alias would).
type twiceHandedMinter struct{}

// Exchange mints one token and answers credentials holding it twice.
func (twiceHandedMinter) Exchange(
	ctx context.Context, req exchange.Request,
) (exchange.Credentials, error) {
	jwt, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: "api://AzureADTokenExchange"})
	if err != nil {
		return exchange.Credentials{}, err
	}
	return exchange.Credentials{ExpiresAt: time.Now().Add(time.Hour),
		Env: map[string]string{"ARM_OIDC_TOKEN": jwt, "AZURE_FEDERATED_TOKEN": jwt}}, nil
}

// TestCredentialsTrailNamesEachTokenOnce checks that the credentials.issue event names a
// broker token handed to the worker exactly once, however many variables carry it.
// Guards against: credentials.go:runTokens.handedOut drops the break after a matching variable
// Guards against: credentials.go:credentials leaves tokens.handedOut out of the event detail
func TestCredentialsTrailNamesEachTokenOnce(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{aws: twiceHandedMinter{}})
	run := h.start(t, runs.Tracked, runs.Planning)
	body := map[string]string{"provider": "aws"}
	code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
	if code != http.StatusOK {
		t.Fatalf("credentials: %d %s", code, env.Error.Message)
	}
	got := h.eventsOf("credentials.issue", "success")
	if len(got) != 1 {
		t.Fatalf("credentials.issue events %+v, want one", got)
	}
	if n := strings.Count(got[0].Detail, "; token aud="); n != 1 {
		t.Errorf("event detail %q names the token %d times, want once", got[0].Detail, n)
	}
}

// deadlineExchanger keeps the deadline of the context each exchange runs under.
type deadlineExchanger struct {
	mu       sync.Mutex
	deadline time.Time
	has      bool
}

// Exchange notes its context's deadline and answers credentials at once.
func (x *deadlineExchanger) Exchange(
	ctx context.Context, req exchange.Request,
) (exchange.Credentials, error) {
	x.mu.Lock()
	x.deadline, x.has = ctx.Deadline()
	x.mu.Unlock()
	return fakeExchanger{}.Exchange(ctx, req)
}

// exchangeDeadline serves h's runs through a worker whose exchanges run under within
// (api.WorkerConfig.AnswerWithin), asks for credentials once, and returns the exchange's
// deadline and the times just before and just after the request.
func exchangeDeadline(t *testing.T, h *runsHarness, within time.Duration) [3]time.Time {
	t.Helper()
	x := &deadlineExchanger{}
	rt := api.NewRouter()
	api.NewWorker(api.WorkerConfig{Store: h.store, Catalog: h.live,
		Logger: slog.New(slog.DiscardHandler), Events: h.events,
		Exchangers: map[string]exchange.Exchanger{"aws": x}, AnswerWithin: within}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	run := h.start(t, runs.Tracked, runs.Planning)
	req, err := http.NewRequest("POST", srv.URL+"/v1/credentials",
		bytes.NewReader([]byte(`{"provider":"aws"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	before := time.Now()
	resp, err := http.DefaultClient.Do(req)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("credentials under AnswerWithin %v: %d, want 200", within, resp.StatusCode)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.has {
		t.Fatalf("exchange under AnswerWithin %v ran with no deadline", within)
	}
	return [3]time.Time{before, x.deadline, after}
}

// TestExchangeDeadlineLeavesATenthAtMostASecond checks that an exchange under a write
// timeout W runs until W less a tenth of W, that tenth being at most one second: the deadline
// falls between the request's send time and its answer time, each plus that budget.
// Guards against: credentials.go:credentials drops the one-second cap (AnswerWithin/10 alone)
// Guards against: credentials.go:credentials leaves a fifth rather than a tenth
func TestExchangeDeadlineLeavesATenthAtMostASecond(t *testing.T) {
	for _, c := range []struct{ within, budget time.Duration }{
		{within: 5 * time.Second, budget: 4500 * time.Millisecond},
		{within: time.Hour, budget: time.Hour - time.Second},
	} {
		got := exchangeDeadline(t, newRunsHarness(t), c.within)
		before, deadline, after := got[0], got[1], got[2]
		if deadline.Before(before.Add(c.budget)) || deadline.After(after.Add(c.budget)) {
			t.Errorf("AnswerWithin %v: exchange deadline %v after the request, want %v",
				c.within, deadline.Sub(before), c.budget)
		}
	}
}

// TestUnknownIntegrationMessageIsASentence checks that a credentials request naming an
// integration that does not exist is answered 404 with a message that starts with a capital
// letter and names the integration.
// Guards against: credentials.go:resolveError drops capitalize
func TestUnknownIntegrationMessageIsASentence(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	body := map[string]string{"provider": "aws", "integration": "no-such-integration"}
	code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
	if code != http.StatusNotFound {
		t.Fatalf("credentials for an unknown integration: %d %s, want 404", code, env.Error.Message)
	}
	msg := []rune(env.Error.Message)
	if len(msg) == 0 || !unicode.IsUpper(msg[0]) || msg[len(msg)-1] != '.' {
		t.Errorf("message %q, want a sentence: capital first, full stop last", env.Error.Message)
	}
}

// zonedExchanger hands out credentials whose expiry is expires, in whatever zone it carries.
type zonedExchanger struct{ expires time.Time }

// Exchange answers credentials expiring at z.expires.
func (z zonedExchanger) Exchange(context.Context, exchange.Request) (exchange.Credentials, error) {
	return exchange.Credentials{ExpiresAt: z.expires,
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAZONED"}}, nil
}

// TestCredentialsExpiryAnsweredInUTC checks that the credentials' expiry is answered and
// recorded in UTC, as every other time broker answers, whatever zone the exchange reported it
// in.
// Guards against: credentials.go:credentials answers creds.ExpiresAt without UTC()
// Guards against: credentials.go:credentials records the expiry without UTC()
func TestCredentialsExpiryAnsweredInUTC(t *testing.T) {
	expires := time.Now().Add(time.Hour).Truncate(time.Second).In(time.FixedZone("UTC+5", 5*3600))
	h := newRunsHarnessWith(t, harnessOptions{aws: zonedExchanger{expires: expires}})
	run := h.start(t, runs.Tracked, runs.Planning)
	code, body := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"})
	if code != http.StatusOK {
		t.Fatalf("credentials: %d %s", code, body)
	}
	var got struct {
		ExpiresAt string `json:"expiresAt"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("credentials answer %s: %v", body, err)
	}
	want := expires.UTC().Format(time.RFC3339)
	if got.ExpiresAt != want {
		t.Errorf("expiresAt %q, want %q (UTC)", got.ExpiresAt, want)
	}
	events := h.eventsOf("credentials.issue", "success")
	if len(events) != 1 || !strings.Contains(events[0].Detail, " until "+want) {
		t.Errorf("credentials.issue events %+v, want one whose detail says until %s", events, want)
	}
}
