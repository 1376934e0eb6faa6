package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// ctxExchanger answers credentials at once while its context is live, and the context's error
// when it is done; with wait set it first waits for the context to end.
type ctxExchanger struct{ wait bool }

func (x ctxExchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	if x.wait {
		<-ctx.Done()
	}
	if err := ctx.Err(); err != nil {
		return exchange.Credentials{}, err
	}
	return fakeExchanger{}.Exchange(ctx, req)
}

// answerWithin serves h's runs through a worker whose exchanges run under a 300ms AnswerWithin
// (api.WorkerConfig.AnswerWithin) with x, and returns the status and body of one credentials
// request for run.
func answerWithin(t *testing.T, h *runsHarness, x ctxExchanger) (int, string) {
	t.Helper()
	rt := api.NewRouter()
	api.NewWorker(api.WorkerConfig{Store: h.store, Catalog: h.live, Logger: slog.New(slog.DiscardHandler), Events: h.events,
		Exchangers: map[string]exchange.Exchanger{"aws": x}, AnswerWithin: 300 * time.Millisecond}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	run := h.start(t, runs.Tracked, runs.Planning)
	req, err := http.NewRequest("POST", srv.URL+"/v1/credentials", bytes.NewReader([]byte(`{"provider":"aws"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestExchangeCutShortBeforeTheWriteTimeout pins how an exchange is bounded by the server's write
// timeout: it gets that time less a tenth (at most a second), so a quick exchange under a short
// write timeout succeeds, and one that outlasts it is answered 502 in the envelope saying no answer
// came before the write timeout (never a 500, never a closed connection).
// Guards against: credentials.go:credentials min(AnswerWithin/10, time.Second) turned into max
// Guards against: credentials.go:credentials deadline of the exchange not mapped to an upstream
// error
func TestExchangeCutShortBeforeTheWriteTimeout(t *testing.T) {
	t.Run("quick exchange", func(t *testing.T) {
		if code, raw := answerWithin(t, newRunsHarness(t), ctxExchanger{}); code != http.StatusOK {
			t.Errorf("a quick exchange under a 300ms write timeout: %d %s, want 200", code, raw)
		}
	})
	t.Run("exchange outlasting it", func(t *testing.T) {
		code, raw := answerWithin(t, newRunsHarness(t), ctxExchanger{wait: true})
		if code != http.StatusBadGateway || !strings.Contains(raw, "write timeout") {
			t.Errorf("an exchange outlasting the write timeout: %d %s, want 502 naming the write timeout", code, raw)
		}
	})
}

// placedAhead is one object counted as placed ahead of the control plane's clock.
type placedAhead struct {
	ref   catalog.Ref
	ahead time.Duration
}

// startPlaced starts a TRACKED run of vpc-prod on a control plane whose clock reads now,
// in a catalog where p.ref counts as placed p.ahead later, and returns the status and the run.
func startPlaced(t *testing.T, now time.Time, p placedAhead) (int, runs.Run) {
	t.Helper()
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(harnessConfig(t)),
		FileCreated: map[catalog.Ref]int64{p.ref: now.Add(p.ahead).UnixMilli()}})
	if err != nil {
		t.Fatal(err)
	}
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: runs.NewMemory(nil), Catalog: catalog.NewLive(cat), RunTTL: time.Hour,
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}).Mount(rt)
	srv := httptest.NewServer(rt)
	defer srv.Close()
	h := &runsHarness{url: srv.URL}
	var ans started
	code, _ := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, out: &ans,
		body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}})
	return code, ans.Run
}

// TestRunStartsWhenItsPlaceWasTaken pins that a run starts no earlier than its space (or
// an ancestor space) or its key took its place, so that it is not born ended, and that a start
// exactly catalog.SettleTime plus a second ahead of this replica's clock is still accepted
// (only further ahead is refused).
// Guards against: control.go:startTime SpacePlaced not taken into account
// Guards against: control.go:startTime at.Sub(now) > maxAhead turned into >=
func TestRunStartsWhenItsPlaceWasTaken(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	for name, p := range map[string]placedAhead{
		"space placed ahead":          {catalog.Ref{Kind: catalog.KindSpace, ID: "prod"}, 2 * time.Second},
		"ancestor space placed ahead": {catalog.Ref{Kind: catalog.KindSpace, ID: "root"}, 2 * time.Second},
		"key placed ahead":            {catalog.Ref{Kind: catalog.KindAPIKey, ID: "create-update"}, 2 * time.Second},
		"stack placed at the bound":   {catalog.Ref{Kind: catalog.KindStack, ID: "vpc-prod"}, catalog.SettleTime + time.Second},
	} {
		code, run := startPlaced(t, now, p)
		if code != http.StatusCreated || !run.CreatedAt.Equal(now.Add(p.ahead)) {
			t.Errorf("%s by %s: %d, run dated %s, want 201 dated %s", name, p.ahead, code, run.CreatedAt, now.Add(p.ahead))
		}
	}
}

// TestRunStartWithoutStackIs400 pins that POST /v1/runs without a stack is an invalid
// request (400 saying the field is required), not a 404 for a stack named "".
// Guards against: control.go:create req.Stack == "" branch dropped
func TestRunStartWithoutStackIs400(t *testing.T) {
	h := newRunsHarness(t)
	code, env := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: map[string]string{"runType": "TRACKED"}})
	if code != http.StatusBadRequest || !strings.Contains(env.Error.Message, `"stack"`) {
		t.Errorf("start without a stack: %d %q, want 400 naming field \"stack\"", code, env.Error.Message)
	}
}

// ctxLimiter is a limiter under which every key is blocked for a minute, that, like a
// store on the network, fails with its context's error once that context is done.
type ctxLimiter struct{}

func (ctxLimiter) Failed(ctx context.Context, _ string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return time.Minute, nil
}

// TestGuardCountsWhateverTheRequestContext pins that a failed authentication is counted,
// and a blocked client answered 429, when the guard has no store timeout configured (the default
// applies, not an already expired deadline) and when the client went away mid-request (the
// count does not share the request's cancellation), with or without a credential presented.
// Guards against: guard.go:Failed default StoreTimeout not applied for zero
// Guards against: guard.go:Failed context.WithoutCancel dropped
func TestGuardCountsWhateverTheRequestContext(t *testing.T) {
	g := &api.Guard{Limiter: ctxLimiter{}, Logger: slog.New(slog.DiscardHandler)}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	cause := errors.New("unknown API key")
	for name, ctx := range map[string]context.Context{"live request": context.Background(), "client gone": gone} {
		for _, auth := range []string{"", "Bearer some-unknown-key"} {
			r := httptest.NewRequest("POST", "/v1/runs", nil).WithContext(ctx)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			var ae *apierror.Error
			if err := g.Failed(r, cause); !errors.As(err, &ae) || ae.Code != apierror.CodeRateLimited || ae.RetryAfter != 60 {
				t.Errorf("%s, Authorization %q, blocked client: Failed = %v, want a 429 with Retry-After 60", name, auth, err)
			}
		}
	}
}
