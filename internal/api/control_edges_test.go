package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// blockedLimiter is a failed-authentication limiter under which every client is already
// blocked for a minute; it counts the failures it is told of.
type blockedLimiter struct {
	mu    sync.Mutex
	count int
}

func (b *blockedLimiter) Failed(context.Context, string) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count++
	return time.Minute, nil
}

// blockedPost is a POST from a client the failed-login guard blocks.
type blockedPost struct {
	url, auth, body string
}

// expectBlocked sends p and fails the test unless the answer is 429 with Retry-After.
func expectBlocked(t *testing.T, p blockedPost) {
	t.Helper()
	req, err := http.NewRequest("POST", p.url, strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if p.auth != "" {
		req.Header.Set("Authorization", p.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST %s with Authorization %q from a blocked client: %d (Retry-After %q), want 429 with Retry-After",
			p.url, p.auth, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestControlCountsMalformedCredentials: every failed authentication on the control plane
// counts against its client, a missing or malformed Authorization header as much as an unknown
// API key: a blocked client gets 429 with Retry-After for each, and the limiter is told of each.
func TestControlCountsMalformedCredentials(t *testing.T) {
	h := newRunsHarness(t)
	lim := &blockedLimiter{}
	log := slog.New(slog.DiscardHandler)
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: runs.NewMemory(nil), Catalog: h.live, RunTTL: time.Hour, Logger: log,
		Events: h.events, Guard: &api.Guard{Limiter: lim, Logger: log}}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer unknown-key"} {
		expectBlocked(t, blockedPost{url: srv.URL + "/v1/runs", auth: auth, body: `{"stack":"vpc-prod","runType":"TRACKED"}`})
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.count < 5 {
		t.Errorf("the limiter was told of %d failures, want at least 5", lim.count)
	}
}

// TestRunStartBoundedAhead: a run of a stack placed ahead of this replica's clock starts
// when the stack was placed, but only a few seconds ahead (catalog.SettleTime and a second of
// clock skew): a stack placed further ahead gets 503, never a run dated, and expiring, in the
// future, past runs.ttl and past a deletion of the stack.
func TestRunStartBoundedAhead(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, tc := range []struct {
		ahead time.Duration
		want  int
	}{
		{2 * time.Second, http.StatusCreated},
		{catalog.SettleTime + 2*time.Second, http.StatusServiceUnavailable},
		{time.Minute, http.StatusServiceUnavailable},
	} {
		cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(harnessConfig(t)),
			FileCreated: map[catalog.Ref]int64{{Kind: catalog.KindStack, ID: "vpc-prod"}: now.Add(tc.ahead).UnixMilli()}})
		if err != nil {
			t.Fatal(err)
		}
		rt := api.NewRouter()
		api.NewControl(api.ControlConfig{Store: runs.NewMemory(nil), Catalog: catalog.NewLive(cat), RunTTL: time.Hour,
			Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}).Mount(rt)
		srv := httptest.NewServer(rt)
		h := &runsHarness{url: srv.URL}
		var ans started
		code, _ := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, out: &ans,
			body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}})
		srv.Close()
		if code != tc.want {
			t.Errorf("a run of a stack placed %s ahead: %d, want %d", tc.ahead, code, tc.want)
		}
		if code == http.StatusCreated && (!ans.Run.CreatedAt.Equal(now.Add(tc.ahead)) || ans.Run.ExpiresAt.Sub(now) > tc.ahead+time.Hour) {
			t.Errorf("a run of a stack placed %s ahead is dated %s to %s, want from the placement for runs.ttl", tc.ahead, ans.Run.CreatedAt, ans.Run.ExpiresAt)
		}
	}
}

// TestEndedRunCanBeFinishedThroughPhase: a run that ended with its stack can still be
// finished, by POST /v1/runs/{id}/phase with FINISHED as by /finish; it cannot be moved on.
func TestEndedRunCanBeFinishedThroughPhase(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.dropStack(t, "vpc-prod")
	path := "/v1/runs/" + run.Run.ID + "/phase"
	if code, _ := h.call(t, request{path: path, bearer: secretCreateUpdate, body: map[string]string{"phase": "APPLYING"}}); code != http.StatusConflict {
		t.Errorf("moving a run whose stack was deleted to APPLYING: %d, want 409", code)
	}
	var ans started
	if code, env := h.call(t, request{path: path, bearer: secretCreateUpdate, body: map[string]string{"phase": "FINISHED"}, out: &ans}); code != http.StatusOK || ans.Run.Phase != runs.Finished {
		t.Errorf("finishing a run whose stack was deleted through /phase: %d %s (phase %s), want 200 FINISHED", code, env.Error.Message, ans.Run.Phase)
	}
}

// TestFinishStandsForAKeyNarrowedMeanwhile: finishing a run only takes rights away, so a
// finish authorized when it was asked is stored even if the key lost run:update before the
// store was written: the run ends, and its run token stops working at once.
func TestFinishStandsForAKeyNarrowedMeanwhile(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Applying)
	var once sync.Once
	h.flaky.set(nil, nil, func(string) {
		once.Do(func() {
			swapCatalog(t, h, func(o *catalog.Objects) {
				for i := range o.APIKeys {
					if o.APIKeys[i].ID == "create-update" {
						o.APIKeys[i].Bindings = []config.Binding{{Role: "starter", Space: "prod"}}
					}
				}
			})
		})
	})
	code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate})
	if code != http.StatusOK {
		t.Errorf("finish by a key narrowed while it was stored: %d %s, want 200", code, env.Error.Message)
	}
	stored, err := h.store.Get(context.Background(), run.Run.ID)
	if err != nil || stored.Phase != runs.Finished {
		t.Errorf("the run is %s (%v) after the finish, want FINISHED", stored.Phase, err)
	}
	if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
		t.Errorf("the finished run's token: %d, want 401", code)
	}
}

// TestRefusalNamesTheClientBehindATrustedProxy: an unauthenticated attempt is recorded
// naming the client's address, which behind a trusted proxy is the one X-Forwarded-For names,
// not the proxy's.
func TestRefusalNamesTheClientBehindATrustedProxy(t *testing.T) {
	h := newRunsHarness(t)
	log := slog.New(slog.DiscardHandler)
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: runs.NewMemory(nil), Catalog: h.live, RunTTL: time.Hour, Logger: log, Events: h.events,
		Guard: &api.Guard{Logger: log, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("POST", srv.URL+"/v1/runs", strings.NewReader(`{"stack":"vpc-prod","runType":"TRACKED"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer unknown-key")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unknown API key: %d, want 401", resp.StatusCode)
	}
	refusals := h.eventsOf("run.create", "denied")
	if len(refusals) != 1 || !strings.Contains(refusals[0].Detail, "203.0.113.7") {
		t.Errorf("refusals %+v, want one naming the client 203.0.113.7", refusals)
	}
}
