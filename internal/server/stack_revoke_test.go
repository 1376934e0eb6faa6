package server

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestDeletedStackRunsStayEnded: a run of a stack created through the API mints; once the stack
// is deleted its run token gets 401, and creating a stack with the same id again does not revive
// the old run, while a new run of the new stack mints.
func TestDeletedStackRunsStayEnded(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, serverOptions{})
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
	create := func() {
		t.Helper()
		if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "api-stack", Space: "prod"}}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	old := ts.createRun(t, "api-stack", "TRACKED")
	if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
		t.Fatalf("mint for a live stack's run: %d", code)
	}
	if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack}); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint for a deleted stack's run: %d, want 401", code)
	}
	create()
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint for the old run after the stack was created again: %d, want 401", code)
	}
	fresh := ts.createRun(t, "api-stack", "TRACKED")
	if _, code := ts.mint(t, fresh.RunToken, ""); code != 200 {
		t.Fatalf("mint for a run of the new stack: %d, want 200", code)
	}
}

// TestEndedStackRunsStayEndedWhenTheStackComesBack: a run whose stack was deleted or moved away
// stays ended when a stack with that id comes back to its place, whether the file declares it
// on a reload or the API moves it back; the control plane cannot move such a run on (409), only
// finish it.
func TestEndedStackRunsStayEndedWhenTheStackComesBack(t *testing.T) {
	ctx := context.Background()
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
	put := func(t *testing.T, ts *testServer, space string) {
		t.Helper()
		if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "api-stack", Space: space}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		// end ends the stack's runs; back brings a stack with its id back to its place.
		end, back func(t *testing.T, ts *testServer)
	}{
		{"deleted, then declared in the file",
			func(t *testing.T, ts *testServer) {
				if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack}); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, ts *testServer) {
				next := *ts.srv.cfg
				next.Stacks = append(slices.Clone(next.Stacks), config.Stack{ID: "api-stack", Space: "prod"})
				if err := ts.srv.Reload(ctx, &next, nil); err != nil {
					t.Fatal(err)
				}
			}},
		{"moved away, then back",
			func(t *testing.T, ts *testServer) { put(t, ts, "dev") },
			func(t *testing.T, ts *testServer) { put(t, ts, "prod") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var offset atomic.Int64 // nanoseconds the replica's clock is moved on by
			ts := startServer(t, serverOptions{now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
			put(t, ts, "prod")
			old := ts.createRun(t, "api-stack", "TRACKED")
			if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
				t.Fatalf("mint for a live stack's run: %d", code)
			}
			tc.end(t, ts)
			if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
				t.Fatalf("mint once the stack ended: %d, want 401", code)
			}
			tc.back(t, ts)
			if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
				t.Errorf("mint for the old run once the stack came back: %d, want 401", code)
			}
			if code := ts.setPhase(t, old.Run.ID, "APPLYING"); code != 409 {
				t.Errorf("moving the old run to APPLYING: %d, want 409", code)
			}
			if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
				t.Errorf("mint for the old run after the move was refused: %d, want 401", code)
			}
			if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + old.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
				t.Errorf("finishing the old run: %d, want 200", code)
			}
			offset.Add(int64(catalog.SettleTime)) // a file stack taking a deleted id counts from then
			fresh := ts.createRun(t, "api-stack", "TRACKED")
			if _, code := ts.mint(t, fresh.RunToken, ""); code != 200 {
				t.Errorf("mint for a run of the stack as it is now: %d, want 200", code)
			}
		})
	}
}

// laggingStore is a catalog store whose replica, while frozen holds a state, believes the
// store is still at that state and hears no notices: a replica that has not caught up yet.
type laggingStore struct {
	catalog.Store
	frozen *atomic.Pointer[catalog.Head]
}

func (s laggingStore) Head(ctx context.Context) (catalog.Head, error) {
	if f := s.frozen.Load(); f != nil {
		return *f, nil
	}
	return s.Store.Head(ctx)
}

func (s laggingStore) Notify(ctx context.Context) <-chan struct{} {
	return deafStore{s.Store}.Notify(ctx)
}

// TestDeletedStackRunsStayEndedOnALaterReplica: a stack deleted through the API ends its runs
// also on a replica that was not running then (or restarted since), when the file brings a
// stack with its id back: the store's tombstone keeps when the id left, so the old runs, write
// scope included, do not come back to life there. That holds for a run another replica started
// before it heard of the deletion, and for one started by a replica whose clock runs ahead;
// a run of the file's stack started once the deletion has settled mints.
func TestDeletedStackRunsStayEndedOnALaterReplica(t *testing.T) {
	ctx := context.Background()
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
	for _, tc := range []struct {
		name string
		// bAhead is how far replica b's clock runs ahead of a's; lagging makes b miss the
		// deletion until it has started the run.
		bAhead  time.Duration
		lagging bool
	}{
		{"run started before the deletion", 0, false},
		{"run started by a replica that had not heard of the deletion", 0, true},
		{"run started before the deletion by a replica whose clock runs ahead", 500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Start(t)
			var offset atomic.Int64 // nanoseconds every replica's clock is moved on by
			clock := func(ahead time.Duration) func() time.Time {
				return func() time.Time { return time.Now().Add(time.Duration(offset.Load()) + ahead) }
			}
			frozen := &atomic.Pointer[catalog.Head]{}
			a := startServer(t, serverOptions{redisURL: rs.URL(), keyBackend: "redis", now: clock(0)})
			b := startServer(t, serverOptions{redisURL: rs.URL(), keyBackend: "redis", now: clock(tc.bAhead), issuer: a.URL,
				catalogStore: func(s catalog.Store) catalog.Store { return laggingStore{s, frozen} }})
			if _, err := a.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "api-stack", Space: "prod"}}); err != nil {
				t.Fatal(err)
			}
			if err := b.srv.catalog.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			var old runAnswer
			if !tc.lagging {
				old = b.createRun(t, "api-stack", "TRACKED")
			}
			head, err := a.srv.state.catalog.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			frozen.Store(&head)
			if _, err := a.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack}); err != nil {
				t.Fatal(err)
			}
			if tc.lagging {
				old = b.createRun(t, "api-stack", "TRACKED")
			}
			frozen.Store(nil)
			if err := b.srv.catalog.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			c := startServer(t, serverOptions{redisURL: rs.URL(), keyBackend: "redis", now: clock(0), issuer: a.URL})
			for _, r := range []*testServer{a, c} {
				next := *r.srv.cfg
				next.Stacks = append(slices.Clone(next.Stacks), config.Stack{ID: "api-stack", Space: "prod"})
				if err := r.srv.Reload(ctx, &next, nil); err != nil {
					t.Fatal(err)
				}
			}
			for name, r := range map[string]*testServer{"the replica that deleted it": a, "a replica started after the deletion": c} {
				if _, code := r.mint(t, old.RunToken, ""); code != 401 {
					t.Errorf("%s mints for the deleted stack's run: %d, want 401", name, code)
				}
			}
			if code := c.setPhase(t, old.Run.ID, "APPLYING"); code != 409 {
				t.Errorf("moving the deleted stack's run to APPLYING on a later replica: %d, want 409", code)
			}
			offset.Add(int64(catalog.SettleTime))
			fresh := c.createRun(t, "api-stack", "TRACKED")
			if _, code := c.mint(t, fresh.RunToken, ""); code != 200 {
				t.Errorf("mint for a run of the file's stack: %d, want 200", code)
			}
		})
	}
}
