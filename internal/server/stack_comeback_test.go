package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestEndedRunsStayEndedWhenTheStackComesBack: a run ended by its API stack's deletion, or by
// the stack's move to another space, stays ended when a stack with the id comes back to the
// run's space through the API, also within the same millisecond (steps of 0.1 ms here); a run
// started once the stack is back mints.
func TestEndedRunsStayEndedWhenTheStackComesBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		leave *config.Stack // nil deletes the stack
	}{
		{"deleted and created again", nil},
		{"moved away and back", &config.Stack{ID: "api-stack", Space: "team-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
			ts := startServer(t, serverOptions{now: clock.Now, quiet: true})
			stack := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
			apply := func(obj any) {
				t.Helper()
				mu := catalog.Mutation{Ref: stack}
				if obj != nil {
					mu.Object = obj
				}
				if _, err := ts.srv.catalog.Apply(ctx, mu); err != nil {
					t.Fatal(err)
				}
			}
			apply(config.Stack{ID: "api-stack", Space: "prod"})
			clock.Advance(time.Second + 100*time.Microsecond)
			old := ts.createRun(t, "api-stack", "TRACKED")
			if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
				t.Fatalf("mint for a placed stack's run: %d", code)
			}
			clock.Advance(100 * time.Microsecond)
			if tc.leave == nil {
				apply(nil)
			} else {
				apply(*tc.leave)
			}
			if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
				t.Fatalf("mint once the stack left: %d, want 401", code)
			}
			clock.Advance(100 * time.Microsecond)
			apply(config.Stack{ID: "api-stack", Space: "prod"})
			if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
				t.Errorf("the ended run mints again once the stack is back: %d, want 401", code)
			}
			fresh := ts.createRun(t, "api-stack", "TRACKED")
			if _, code := ts.mint(t, fresh.RunToken, ""); code != 200 {
				t.Errorf("mint for a run started once the stack is back: %d, want 200", code)
			}
		})
	}
}

// TestEndedRunsStayEndedAcrossClockSkew: a run started on a replica whose clock is 0.8 s
// ahead, ended by its stack's deletion on another replica, stays ended on both when the stack
// is created again there at once.
func TestEndedRunsStayEndedAcrossClockSkew(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures, quiet: true}
	a := startServer(t, opts)
	opts.issuer = a.URL
	opts.now = func() time.Time { return time.Now().Add(800 * time.Millisecond) }
	b := startServer(t, opts)

	a.admin(t, "PUT", "/v1/stacks/skew", `{"space":"prod"}`).expect(t, "create the stack", 201)
	within(t, time.Now(), "B has the stack", func() bool { return b.admin(t, "GET", "/v1/stacks/skew", "").code == 200 })
	var run runAnswer
	if code := b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret, body: map[string]string{"stack": "skew", "runType": "TRACKED", "phase": "APPLYING"}, out: &run}); code != 201 {
		t.Fatalf("run on B: %d", code)
	}
	a.admin(t, "DELETE", "/v1/stacks/skew", "").expect(t, "delete the stack", 204)
	within(t, time.Now(), "B ends the run", func() bool { _, code := b.mint(t, run.RunToken, ""); return code == 401 })
	a.admin(t, "PUT", "/v1/stacks/skew", `{"space":"prod"}`).expect(t, "create the stack again", 201)
	within(t, time.Now(), "B has the stack again", func() bool { return b.admin(t, "GET", "/v1/stacks/skew", "").code == 200 })
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		if _, code := r.mint(t, run.RunToken, ""); code != 401 {
			t.Errorf("%s: the run ended with its deleted stack mints again once the stack is back: %d, want 401", name, code)
		}
	}
}

// TestSpaceComingBackListsNoOldEvents: a space deleted and created again through the API in
// the same millisecond does not list the old space's events (nor, for 2 seconds, any event
// another replica may still record in it), and the event of its creation names the version
// it goes on from.
func TestSpaceComingBackListsNoOldEvents(t *testing.T) {
	clock := fakeclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	ts := startServer(t, serverOptions{baseYAML: adminConfig, now: clock.Now, quiet: true})
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"prod"}`).expect(t, "create the space", 201)
	clock.Advance(100 * time.Microsecond)
	ts.admin(t, "DELETE", "/v1/spaces/zs", "").expect(t, "delete the space", 204)
	clock.Advance(100 * time.Microsecond)
	ts.admin(t, "PUT", "/v1/spaces/zs", `{"parent":"prod"}`).expect(t, "create the space again", 201)
	clock.Advance(3 * time.Second)
	ts.admin(t, "PUT", "/v1/stacks/zs-stack", `{"space":"zs"}`).expect(t, "a stack in the space", 201)
	events := auditEvents(t, ts, "zs", 100)
	if len(events) != 1 || events[0].Action != "stack.put" {
		t.Fatalf("the space created again lists %+v, want only its stack's event", events)
	}
	all := auditEvents(t, ts, "prod", 100)
	var created []string
	for _, e := range all {
		if e.Action == "space.put" && strings.HasPrefix(e.Detail, "space zs ") {
			created = append(created, e.Detail)
		}
	}
	if len(created) != 2 || !strings.Contains(created[1], "created at version 3: ") {
		t.Errorf("space zs's creations: %q, want the second at version 3", created)
	}
}
