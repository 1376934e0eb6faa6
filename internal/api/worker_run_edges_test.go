package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestExpiredRunGetsNoCredentials pins that a run whose expiry has come, on the worker's
// clock, is not live: POST /v1/credentials answers 401 and no credentials are recorded as issued,
// also at the very instant of expiry and with an exchanger that mints no broker token (so the
// issuer's own expiry check is not what refuses it).
// Guards against: worker.go:live expiry check dropped
// Guards against: worker.go:live !Now().Before(ExpiresAt) turned into Now().After(ExpiresAt)
func TestExpiredRunGetsNoCredentials(t *testing.T) {
	at := time.Now().Add(30 * time.Minute).Truncate(time.Millisecond)
	for name, expires := range map[string]time.Time{
		"at the instant of expiry": at,
		"an hour after expiry":     at.Add(-time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			h := newRunsHarnessWith(t, harnessOptions{workerNow: func() time.Time { return at }})
			_, token := h.plant(t, func(r *runs.Run) { r.ExpiresAt = expires })
			code, raw := h.rawCall(t, "/v1/credentials", token, map[string]string{"provider": "aws"})
			if code != http.StatusUnauthorized {
				t.Fatalf("credentials of a run expired on the worker's clock: %d %s, want 401", code, raw)
			}
			if got := h.eventsOf("credentials.issue", "success"); len(got) != 0 {
				t.Errorf("credentials.issue events %+v, want none", got)
			}
		})
	}
}

// replaceRef puts in force the harness catalog as it is, but with ref counted as placed at at
// (a stack or key created again, a space moved under another parent, as the catalog sees it).
func (h *runsHarness) replaceRef(t *testing.T, ref catalog.Ref, at time.Time) {
	t.Helper()
	next, err := catalog.Build(catalog.Input{File: h.live.Load().Objects(), FileCreated: map[catalog.Ref]int64{ref: at.UnixMilli()}})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// TestRunEndsWhenItsPlaceIsTakenAgain pins that a run belongs to the objects it started on:
// once its stack, its key, its space or an ancestor space counts as placed after the run began
// (created again, or moved in the tree), the run gets neither a token nor credentials (401), and
// GET /v1/runs/{id} shows it finished.
// Guards against: worker.go:withItsStack SpacePlaced comparison dropped
// Guards against: worker.go:withItsStack stack Meta.Created comparison dropped
// Guards against: worker.go:withItsKey key Meta.Created comparison dropped
func TestRunEndsWhenItsPlaceIsTakenAgain(t *testing.T) {
	for name, ref := range map[string]catalog.Ref{
		"space moved":          {Kind: catalog.KindSpace, ID: "prod"},
		"ancestor space moved": {Kind: catalog.KindSpace, ID: "root"},
		"stack created again":  {Kind: catalog.KindStack, ID: "vpc-prod"},
		"key created again":    {Kind: catalog.KindAPIKey, ID: "create-update"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			h.replaceRef(t, ref, run.Run.CreatedAt.Add(time.Second))
			for path, body := range map[string]map[string]string{"/v1/token": {}, "/v1/credentials": {"provider": "aws"}} {
				if code, raw := h.rawCall(t, path, run.RunToken, body); code != http.StatusUnauthorized {
					t.Errorf("POST %s after the run's %s: %d %s, want 401", path, name, code, raw)
				}
			}
			var got started
			if code, env := h.call(t, request{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: secretCreateUpdate, out: &got}); code != http.StatusOK || got.Run.Phase != runs.Finished {
				t.Errorf("GET the run after its %s: %d %s phase %q, want 200 FINISHED", name, code, env.Error.Message, got.Run.Phase)
			}
		})
	}
}

// TestRunEndsWhenItsStackIsInAnotherSpace pins that a run belongs to its stack in the space
// it started in: a catalog in force that holds the stack in another space (with no record of
// when it moved) gives the run neither a token nor credentials (401).
// Guards against: worker.go:withItsStack space != run.Space comparison dropped
func TestRunEndsWhenItsStackIsInAnotherSpace(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	objs := h.live.Load().Objects()
	objs.Attachments = nil
	for i := range objs.Stacks {
		if objs.Stacks[i].ID == "vpc-prod" {
			objs.Stacks[i].Space = "dev"
		}
	}
	next, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
	for path, body := range map[string]map[string]string{"/v1/token": {}, "/v1/credentials": {"provider": "aws"}} {
		if code, raw := h.rawCall(t, path, run.RunToken, body); code != http.StatusUnauthorized {
			t.Errorf("POST %s with the run's stack now in space dev: %d %s, want 401", path, code, raw)
		}
	}
}

// TestCredentialsNeedAConfirmedCatalog pins that a run asking for credentials while the
// replica cannot confirm its catalog is current gets 503, with or without a store that gives
// versions, and that no exchange is even attempted: a deletion elsewhere may have withdrawn the
// run's stack or attachment.
// Guards against: worker.go:lookupRun catalog confirmation (wk.current) dropped
func TestCredentialsNeedAConfirmedCatalog(t *testing.T) {
	for name, versionless := range map[string]bool{"versioned store": false, "versionless store": true} {
		t.Run(name, func(t *testing.T) {
			var cut cutOff
			seen := &clockSeen{}
			h := newRunsHarnessWith(t, harnessOptions{current: cut.current, aws: seen, versionless: versionless})
			run := h.start(t, runs.Tracked, runs.Planning)
			cut.down.Store(true)
			if code, raw := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"}); code != http.StatusServiceUnavailable {
				t.Errorf("credentials on an unconfirmed catalog: %d %s, want 503", code, raw)
			}
			seen.mu.Lock()
			defer seen.mu.Unlock()
			if len(seen.seen) != 0 {
				t.Errorf("%d exchanges ran on an unconfirmed catalog, want none", len(seen.seen))
			}
			if got := h.eventsOf("credentials.issue", "success"); len(got) != 0 {
				t.Errorf("credentials.issue events %+v, want none", got)
			}
		})
	}
}

// TestCachedInconsistentRunRefusalIsAudited pins that a run whose record is inconsistent is
// refused a token (403) with a denied token.issue event in the trail also when the store's cache
// offers the run: the cache is not trusted with a record the store would refuse.
// Guards against: worker.go:cachedRun EffectiveScope check dropped
func TestCachedInconsistentRunRefusalIsAudited(t *testing.T) {
	h := newRunsHarness(t)
	run, token := h.plant(t, func(r *runs.Run) { r.Scope = runs.Write })
	stored, err := h.store.Get(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.flaky.plant(token, stored)
	if code, raw := h.rawCall(t, "/v1/token", token, map[string]string{}); code != http.StatusForbidden {
		t.Fatalf("token of a cached inconsistent run: %d %s, want 403", code, raw)
	}
	if got := h.eventsOf("token.issue", "denied"); len(got) != 1 {
		t.Errorf("denied token.issue events %+v, want one", got)
	}
	if got := h.eventsOf("token.issue", "success"); len(got) != 0 {
		t.Errorf("token.issue events %+v, want none", got)
	}
}

// TestTokenOfRunEndingBeforeItsTokenIs401 pins that a run the worker still holds live but (here
// through the store's cache) whose end the issuer finds already reached (a token would expire as it
// is issued) gets the one answer for a run that has ended, 401 in the envelope, and never a 500.
// Guards against: worker.go:mintError issuer.ErrRunExpired not mapped to errRunToken
func TestTokenOfRunEndingBeforeItsTokenIs401(t *testing.T) {
	expires := time.Now().Add(-time.Minute)
	h := newRunsHarnessWith(t, harnessOptions{workerNow: func() time.Time { return expires.Add(-time.Hour) }})
	run, token := h.plant(t, func(r *runs.Run) { r.ExpiresAt = expires })
	h.flaky.plant(token, run) // the store itself no longer answers an expired run
	code, env := h.call(t, request{path: "/v1/token", bearer: token, body: map[string]string{}})
	if code != http.StatusUnauthorized {
		t.Errorf("token of a run the issuer finds ended: %d %s, want 401", code, env.Error.Message)
	}
	if got := h.eventsOf("token.issue", "success"); len(got) != 0 {
		t.Errorf("token.issue events %+v, want none", got)
	}
}

// TestOtherStacksIntegrationAnsweredAsUnknown pins that a run naming an integration that
// exists but is not its stack's (another space's) gets the very answer a run naming one that
// does not exist gets, 404 with the same wording, whichever provider it asks for, so that a run
// learns neither that the integration exists nor its provider; the refusal is still audited.
// Guards against: credentials.go:credentials !cat.Attached(...) hiding dropped
func TestOtherStacksIntegrationAnsweredAsUnknown(t *testing.T) {
	h := newRunsHarness(t)
	h.addOtherSpaceIntegration(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, provider := range []string{"aws", "gcp"} {
		code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": provider, "integration": "aws-other"}})
		_, none := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": provider, "integration": "aws-nowhere"}})
		want := strings.ReplaceAll(none.Error.Message, "aws-nowhere", "aws-other")
		if code != http.StatusNotFound || env.Error.Message != want {
			t.Errorf("provider %s, another space's integration: %d %q, want 404 %q", provider, code, env.Error.Message, want)
		}
	}
	if got := h.eventsOf("credentials.issue", "denied"); len(got) != 2 {
		t.Errorf("denied credentials.issue events %+v, want two", got)
	}
}

// TestProviderNotEnabledIs400 pins that a run asking for credentials of a provider its
// stack has an integration of, but that this server has no exchanger for, gets 400 in the
// envelope saying the provider is not enabled (never a 500), and nothing is recorded as issued.
// Guards against: credentials.go:credentials Exchangers[provider] presence check dropped
func TestProviderNotEnabledIs400(t *testing.T) {
	h := newRunsHarness(t)
	objs := h.live.Load().Objects()
	objs.Integrations = append(objs.Integrations, config.Integration{ID: "gcp-read", Space: "prod", GCP: &config.GCP{
		WorkloadIdentityProvider: "projects/1/locations/global/workloadIdentityPools/pool/providers/broker",
		ServiceAccount:           "read@p.iam.gserviceaccount.com"}})
	objs.Attachments = append(objs.Attachments, config.Attachment{Stack: "vpc-prod", Integration: "gcp-read", Read: true})
	next, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
	run := h.start(t, runs.Tracked, runs.Planning)
	code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: map[string]string{"provider": "gcp"}})
	if code != http.StatusBadRequest || !strings.Contains(env.Error.Message, "not enabled") {
		t.Errorf("credentials of a provider with no exchanger: %d %q, want 400 saying it is not enabled", code, env.Error.Message)
	}
	if got := h.eventsOf("credentials.issue", "success"); len(got) != 0 {
		t.Errorf("credentials.issue events %+v, want none", got)
	}
}

// swapDuring is an exchanger that, while it exchanges, runs during (once), then hands out
// fakeExchanger's credentials.
type swapDuring struct{ during func() }

func (s swapDuring) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	s.during()
	return fakeExchanger{}.Exchange(ctx, req)
}

// TestCredentialsWithheldWhenAttachmentSwappedDuringExchange pins that credentials
// exchanged with an integration that stopped being the stack's attachment for the run's scope
// while the exchange ran (another integration attached in its place) are not handed out: 409,
// and no credentials.issue success event.
// Guards against: credentials.go:stillInForce in.ID != x.integration comparison dropped
func TestCredentialsWithheldWhenAttachmentSwappedDuringExchange(t *testing.T) {
	var h *runsHarness
	swap := func() {
		objs := h.live.Load().Objects()
		objs.Integrations = append(objs.Integrations, config.Integration{ID: "aws-read-2", Space: "prod",
			AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/read2"}})
		objs.Attachments = []config.Attachment{{Stack: "vpc-prod", Integration: "aws-read-2", Read: true}}
		next, err := catalog.Build(catalog.Input{File: objs})
		if err != nil {
			panic(err)
		}
		h.live.Store(next)
	}
	h = newRunsHarnessWith(t, harnessOptions{aws: swapDuring{during: swap}})
	run := h.start(t, runs.Tracked, runs.Planning)
	code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: map[string]string{"provider": "aws"}})
	if code != http.StatusConflict {
		t.Errorf("credentials of an integration swapped out during the exchange: %d %q, want 409", code, env.Error.Message)
	}
	if got := h.eventsOf("credentials.issue", "success"); len(got) != 0 {
		t.Errorf("credentials.issue events %+v, want none", got)
	}
}

// TestTokenRefusesMalformedAudience pins that POST /v1/token refuses (400, nothing signed
// or recorded) an audience that is not printable ASCII URI characters or is over the length
// cap, whether the body takes the compact fast path or encoding/json's, since a relying party
// would compare it byte for byte.
// Guards against: worker.go:token checkAudience dropped
func TestTokenRefusesMalformedAudience(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for name, body := range map[string]string{
		"space, compact":      `{"audience":"a b"}`,
		"angle, compact":      `{"audience":"<x>"}`,
		"bidi override":       `{"audience":"sts\u202e.example"}`,
		"newline, escaped":    `{"audience":"a\nb"}`,
		"over the length cap": `{"audience":"` + strings.Repeat("a", config.MaxAudienceLength+1) + `"}`,
	} {
		code, raw := h.rawSend(t, "/v1/token", run.RunToken, []byte(body))
		if code != http.StatusBadRequest {
			t.Errorf("%s: POST /v1/token %s: %d %s, want 400", name, body, code, raw)
		}
	}
	if got := h.eventsOf("token.issue", "success"); len(got) != 0 {
		t.Errorf("token.issue events %+v, want none", got)
	}
}

// TestWorkerCountsBadRunTokens pins that a failed run-token authentication on the worker
// plane counts against its client: a blocked client presenting an unknown run token gets 429 with
// Retry-After on both worker routes (not 401), and the limiter is told of each failure.
// Guards against: worker.go:authenticateRun Guard.Failed not called for a bad run token
func TestWorkerCountsBadRunTokens(t *testing.T) {
	h := newRunsHarness(t)
	lim := &blockedLimiter{}
	log := slog.New(slog.DiscardHandler)
	rt := api.NewRouter()
	api.NewWorker(api.WorkerConfig{Store: runs.NewMemory(nil), Catalog: h.live, Logger: log, Events: h.events,
		Guard: &api.Guard{Limiter: lim, Logger: log}}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	for _, path := range []string{"/v1/token", "/v1/credentials"} {
		expectBlocked(t, blockedPost{url: srv.URL + path, auth: "Bearer " + runs.TokenPrefix + "no-such-run-token-at-all", body: `{"provider":"aws"}`})
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.count < 2 {
		t.Errorf("the limiter was told of %d failures, want at least 2", lim.count)
	}
}

// addOtherSpaceIntegration puts into h's catalog aws-other, an AWS integration of space dev
// that no stack of prod uses.
func (h *runsHarness) addOtherSpaceIntegration(t *testing.T) {
	t.Helper()
	objs := h.live.Load().Objects()
	objs.Integrations = append(objs.Integrations, config.Integration{ID: "aws-other", Space: "dev",
		AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/other"}})
	next, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}
