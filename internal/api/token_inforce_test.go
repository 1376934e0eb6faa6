package api_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// versionlessStore is a runs.Store that gives no Version (as redisstore's store on a Redis Cluster,
// whose GetByTokenVersion returns the zero Version and which has no run cache).
type versionlessStore struct{ runs.Store }

func (p versionlessStore) GetByTokenVersion(ctx context.Context, token runs.TokenHash) (runs.Run, runs.Version, error) {
	run, err := p.Store.GetByToken(ctx, token)
	return run, runs.Version{}, err
}

// versionlessHarness is newRunsHarnessWith on a store without Versions.
func versionlessHarness(t *testing.T, wrap func(crypto.Signer) crypto.Signer) *runsHarness {
	t.Helper()
	h, _ := newInForceHarness(t, wrap, true)
	return h
}

// newInForceHarness builds the harness's planes on a memory store, through versionlessStore when
// plain is set (else the memory store itself, with the trail checking Versions as the server's
// does), and returns the live catalog too.
func newInForceHarness(t *testing.T, wrap func(crypto.Signer) crypto.Signer, plain bool) (*runsHarness, *catalog.Live) {
	t.Helper()
	yaml := strings.NewReplacer(
		"SHA_CREATE_UPDATE", sha256Hex(secretCreateUpdate), "SHA_CREATE", sha256Hex(secretCreate),
		"SHA_UPDATE", sha256Hex(secretUpdate), "SHA_SPLIT", sha256Hex(secretSplit), "SHA_DEV", sha256Hex(secretDev),
	).Replace(runsHarnessConfig)
	cfg, err := config.Parse("harness.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	mgr, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Logger: log, Policy: keys.Policy{
		Period: cfg.Keys.Rotation.Period, Prepublish: cfg.Keys.Rotation.Prepublish,
		Retain: cfg.Keys.Rotation.Retain, Alg: cfg.Keys.Algorithm,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	live := catalog.NewLive(cat)
	iss, err := issuer.New(issuer.Config{Issuer: cfg.Issuer, Keys: wrappedKeys{src: mgr, wrap: wrap}, TTL: cfg.Tokens.TTL,
		DefaultAudience: cfg.Tokens.DefaultAudience, Spaces: live})
	if err != nil {
		t.Fatal(err)
	}
	h := &runsHarness{store: runs.NewMemory(nil), events: &eventLog{}}
	var store runs.Store = h.store
	if plain {
		store = versionlessStore{Store: h.store}
	} else {
		h.events.holder = h.store
	}
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: store, Catalog: live, RunTTL: cfg.Runs.TTL, Logger: log, Events: h.events}).Mount(rt)
	api.NewWorker(api.WorkerConfig{Store: store, Issuer: iss, Logger: log, Events: h.events, Catalog: live,
		Exchangers: map[string]exchange.Exchanger{"aws": fakeExchanger{}}}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h, live
}

// On a run store that gives no Version (a Redis Cluster), no condition guards a token's event:
// a write token whose request read the run in APPLYING, and was being signed when
// POST /v1/runs/{id}/finish answered 200, is not handed out. The run is read again once the
// token is recorded; the answer is 401 and the trail says the token was not handed out.
func TestTokenWithheldWhenRunFinishedWhileSigningWithoutVersion(t *testing.T) {
	var once sync.Once
	signing := make(chan struct{})
	release := make(chan struct{})
	var armed sync.Mutex
	arm := false
	h := versionlessHarness(t, func(s crypto.Signer) crypto.Signer {
		return stepSigner{Signer: s, step: func() error {
			armed.Lock()
			a := arm
			armed.Unlock()
			if a {
				once.Do(func() { close(signing); <-release })
			}
			return nil
		}}
	})
	run := h.start(t, runs.Tracked, runs.Applying)
	armed.Lock()
	arm = true
	armed.Unlock()

	type result struct {
		code int
		tok  string
	}
	done := make(chan result, 1)
	go func() {
		var ans struct {
			Token string `json:"token"`
		}
		code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}, out: &ans})
		done <- result{code, ans.Token}
	}()
	select {
	case <-signing:
	case <-time.After(10 * time.Second):
		t.Fatal("the token was never signed")
	}
	// While the token is being signed, the control plane finishes the run.
	if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate}); code != http.StatusOK {
		t.Fatalf("finish: %d %s", code, env.Error.Message)
	}
	close(release)
	res := <-done
	if res.code != http.StatusUnauthorized {
		var order []string
		for _, e := range h.events.all() {
			order = append(order, e.Action)
		}
		t.Errorf("POST /v1/token answered %d (token scope %q) after the run's finish answered 200, want 401; trail order: %v",
			res.code, scopeOf(t, res.tok), order)
	}
	assertWithheld(t, h)
}

// assertWithheld checks that the trail's last event says a token was not handed out.
func assertWithheld(t *testing.T, h *runsHarness) {
	t.Helper()
	events := h.events.all()
	last := events[len(events)-1]
	if last.Action != "token.issue" || last.Outcome != "denied" || !strings.Contains(last.Detail, "not handed out") {
		t.Errorf("the trail ends with %s %s %q, want the token.issue not handed out", last.Action, last.Outcome, last.Detail)
	}
}

func scopeOf(t *testing.T, jwt string) string {
	if strings.Contains(jwt, ".") {
		raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
		if err == nil {
			var c map[string]any
			if json.Unmarshal(raw, &c) == nil {
				if s, ok := c["scope"].(string); ok {
					return s
				}
			}
		}
	}
	return "?"
}

// gatedSigner returns a signer wrapper that, once armed, blocks the first signature until
// release is closed, closing signing when it starts.
func gatedSigner() (wrap func(crypto.Signer) crypto.Signer, armNow func(), signing, release chan struct{}) {
	var once sync.Once
	var mu sync.Mutex
	armed := false
	signing, release = make(chan struct{}), make(chan struct{})
	wrap = func(s crypto.Signer) crypto.Signer {
		return stepSigner{Signer: s, step: func() error {
			mu.Lock()
			a := armed
			mu.Unlock()
			if a {
				once.Do(func() { close(signing); <-release })
			}
			return nil
		}}
	}
	armNow = func() { mu.Lock(); armed = true; mu.Unlock() }
	return
}

// Deleting a stack ends its runs, whose tokens get 401. A token's event is conditioned on the
// run record, not on the catalog: a write token being signed when the stack left the catalog in
// force is not handed out (401, and the trail says so), on the in-memory store with versions.
func TestTokenWithheldWhenStackDeletedWhileSigning(t *testing.T) {
	wrap, armNow, signing, release := gatedSigner()
	h, live := newInForceHarness(t, wrap, false)
	run := h.start(t, runs.Tracked, runs.Applying)
	armNow()
	type result struct {
		code int
		tok  string
	}
	done := make(chan result, 1)
	go func() {
		var ans struct {
			Token string `json:"token"`
		}
		code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}, out: &ans})
		done <- result{code, ans.Token}
	}()
	select {
	case <-signing:
	case <-time.After(10 * time.Second):
		t.Fatal("the token was never signed")
	}
	// The stack is deleted (with its attachments) while the token is signed.
	cur := live.Load().Objects()
	var stacks []config.Stack
	for _, s := range cur.Stacks {
		if s.ID != "vpc-prod" {
			stacks = append(stacks, s)
		}
	}
	cur.Stacks, cur.Attachments = stacks, nil
	next, err := catalog.Build(catalog.Input{File: cur})
	if err != nil {
		t.Fatal(err)
	}
	live.Store(next)
	if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
		t.Fatalf("a token asked after the deletion: %d, want 401", code)
	}
	close(release)
	res := <-done
	if res.code != http.StatusUnauthorized {
		t.Errorf("POST /v1/token answered %d (token scope %q) for a run whose stack was deleted before the token was handed out, want 401", res.code, scopeOf(t, res.tok))
	}
	assertWithheld(t, h)
}
