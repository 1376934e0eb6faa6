package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// secretOps is the secret of API key ops, created through the API (not the file) with role
// orchestrator (run:create, run:read, run:update) on prod: a key another replica can delete.
const secretOps = "key-ops"

// cutOffStore is the catalog store two replicas share, as this replica reaches it: while down
// is set the replica is cut off from it (on a Redis Cluster, the catalog's node out of reach
// while the runs' is not), and every call fails.
type cutOffStore struct {
	catalog.Store
	down atomic.Bool
}

// errCutOff is what a call of a cut-off replica gets.
var errCutOff = fmt.Errorf("%w: the catalog's node is out of reach", catalog.ErrUnavailable)

func (s *cutOffStore) Load(ctx context.Context) (catalog.Snapshot, error) {
	if s.down.Load() {
		return catalog.Snapshot{}, errCutOff
	}
	return s.Store.Load(ctx)
}

func (s *cutOffStore) Head(ctx context.Context) (catalog.Head, error) {
	if s.down.Load() {
		return catalog.Head{}, errCutOff
	}
	return s.Store.Head(ctx)
}

func (s *cutOffStore) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	if s.down.Load() {
		return catalog.Head{}, errCutOff
	}
	return s.Store.Commit(ctx, at, changes)
}

// cutOffHarness is a runsHarness whose control plane is one of two replicas sharing a catalog
// store: it takes its catalog from a catalog.Manager, and confirms it through the Manager's
// Current as the server does. other is the other replica's Manager; catalogStore is the shared
// store as this replica reaches it.
type cutOffHarness struct {
	*runsHarness
	other        *catalog.Manager
	catalogStore *cutOffStore
}

func newCutOffHarness(t *testing.T) *cutOffHarness {
	t.Helper()
	ctx := context.Background()
	cfg := harnessConfig(t)
	log := slog.New(slog.DiscardHandler)
	shared := catalog.NewMemory()
	other, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: shared, File: catalog.FileObjects(cfg), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ops := config.APIKey{ID: "ops", SecretSHA256: sha256Hex(secretOps), Bindings: []config.Binding{{Role: "orchestrator", Space: "prod"}}}
	if _, err := other.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}, Object: ops}); err != nil {
		t.Fatalf("create key ops on the other replica: %v", err)
	}
	store := &cutOffStore{Store: shared}
	mgr, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: catalog.FileObjects(cfg), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h := &runsHarness{store: runs.NewMemory(nil), events: &eventLog{}, live: mgr.Live()}
	h.flaky = &flakyStore{Store: h.store}
	h.events.holder = h.store
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: h.flaky, Catalog: mgr.Live(), Current: mgr.Current,
		RunTTL: cfg.Runs.TTL, Logger: log, Events: h.events}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return &cutOffHarness{runsHarness: h, other: other, catalogStore: store}
}

// deleteOpsAndCutOff deletes key ops through the other replica (answered there as a 2xx DELETE
// is), then cuts this replica off from the catalog store and waits until its catalog, which
// still holds ops, is older than catalog.MaxStale: past the contract's bound for the deletion
// to be in force here too.
func (h *cutOffHarness) deleteOpsAndCutOff(t *testing.T) {
	t.Helper()
	if _, err := h.other.Apply(context.Background(), catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}}); err != nil {
		t.Fatalf("delete key ops on the other replica: %v", err)
	}
	h.catalogStore.down.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for h.live.Stale(catalog.MaxStale) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the catalog never went stale")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := h.live.Load().APIKey("ops"); !ok {
		t.Fatal("the cut-off replica's catalog lost key ops: the test no longer tests a stale catalog")
	}
}

// A move to APPLYING (write scope) authorized just before its key was deleted on another replica
// and stored after this replica was cut off from the catalog store for longer than
// catalog.MaxStale is refused 503, as a request authenticated then is: its re-check inside the
// compare-and-swap confirms the catalog as authentication does. The run stays in PLANNING, and
// the trail says the move was not applied. On the old code the re-check read the stale catalog,
// which still held the key, and the move was stored more than a second after the deletion.
func TestPhaseMoveRefusedWhenCutOffFromCatalog(t *testing.T) {
	h := newCutOffHarness(t)
	var run started
	body := map[string]string{"stack": "vpc-prod", "runType": string(runs.Tracked), "phase": string(runs.Planning)}
	if code, env := h.call(t, request{path: "/v1/runs", bearer: secretOps, body: body, out: &run}); code != http.StatusCreated {
		t.Fatalf("start: %d %s", code, env.Error.Message)
	}
	g := newGate(t)
	h.flaky.set(nil, nil, func(string) { g.hold() })
	done := make(chan int, 1)
	go func() {
		code := 0
		defer func() { done <- code }() // sent even when h.call fails t in this goroutine
		code, _ = h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretOps, body: map[string]string{"phase": "APPLYING"}})
	}()
	waitClosed(t, g.entered, "the move never reached the store")
	h.deleteOpsAndCutOff(t)
	// A move asked now is refused at authentication.
	if code, _ := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretOps, body: map[string]string{"phase": "APPLYING"}}); code != http.StatusServiceUnavailable {
		t.Fatalf("a move asked once cut off: %d, want 503", code)
	}
	g.release()
	if code := <-done; code != http.StatusServiceUnavailable {
		t.Errorf("the move authorized before the deletion answered %d once cut off past MaxStale, want 503", code)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase %s on a catalog not confirmed for longer than MaxStale, want PLANNING", p)
	}
	errs := h.eventsOf("run.phase", "error")
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "PLANNING -> APPLYING not applied") {
		t.Errorf("run.phase error events %+v, want one saying PLANNING -> APPLYING was not applied", errs)
	}
}

// A run start in APPLYING authorized just before its key was deleted on another replica, and
// stored after this replica was cut off from the catalog store for longer than catalog.MaxStale,
// gets no run token: 503, and a denied run.create event saying the token was not handed out.
// On the old code the re-check read the stale catalog, which still held the key, and answered
// 201 with a write-scope run token.
func TestRunStartWithheldWhenCutOffFromCatalog(t *testing.T) {
	h := newCutOffHarness(t)
	entered, release := holdEvent(t, h.runsHarness, "run.create")
	done := make(chan startResult, 1)
	go func() {
		var r startResult
		defer func() { done <- r }() // sent even when h.call fails t in this goroutine
		body := map[string]string{"stack": "vpc-prod", "runType": string(runs.Tracked), "phase": string(runs.Applying)}
		r.code, _ = h.call(t, request{path: "/v1/runs", bearer: secretOps, body: body, out: &r.ans})
	}()
	waitClosed(t, entered, "the start never reached the trail")
	h.deleteOpsAndCutOff(t)
	release()
	if r := <-done; r.code != http.StatusServiceUnavailable || r.ans.RunToken != "" {
		t.Errorf("the start authorized before the deletion answered %d once cut off past MaxStale (run token handed out: %v), want 503 and none",
			r.code, r.ans.RunToken != "")
	}
	withheld := 0
	for _, e := range h.eventsOf("run.create", "denied") {
		if strings.Contains(e.Detail, "run token not handed out") && strings.Contains(e.Detail, catalog.ErrUnavailable.Error()) {
			withheld++
		}
	}
	if withheld != 1 {
		t.Errorf("%d denied run.create events saying the run token was not handed out as the catalog store is unavailable, want 1", withheld)
	}
}
