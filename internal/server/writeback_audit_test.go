package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// catalogKeys returns a function that puts the catalog's keys in rdb back as they are now (a
// failover to a replica that received no later write), leaving every other key as it is.
func catalogKeys(t *testing.T, rdb *redis.Client) func() {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*{catalog}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("catalog keys: %q, %v", keys, err)
	}
	saved := map[string]string{}
	for _, k := range keys {
		if saved[k], err = rdb.Dump(ctx, k).Result(); err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
	}
	return func() {
		now, err := rdb.Keys(ctx, "*{catalog}:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		// At once, as a failover is: a replica refreshing meanwhile sees no state in between.
		_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range now {
				if _, ok := saved[k]; !ok {
					p.Del(ctx, k)
				}
			}
			for k, v := range saved {
				p.RestoreReplace(ctx, k, 0, v)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("putting the catalog keys back: %v", err)
		}
	}
}

// storeHoldsRole reports whether the catalog's objects in rdb hold role id.
func storeHoldsRole(t *testing.T, rdb *redis.Client, id string) bool {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*{catalog}:objects").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("catalog objects key: %q, %v", keys, err)
	}
	v, err := rdb.HGet(ctx, keys[0], "role/"+id).Result()
	if errors.Is(err, redis.Nil) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(v, ":", 3) // version:created:body; a tombstone's body is no JSON object
	return len(parts) == 3 && strings.HasPrefix(parts[2], "{")
}

// writeBackEvents lists the events of system:writeback in the root listing as "action: detail".
func writeBackEvents(t *testing.T, ts *testServer) []string {
	t.Helper()
	var out []string
	for _, e := range auditEvents(t, ts, "root", 500) {
		if e.Actor == "system:writeback" && e.Outcome == audit.Success {
			out = append(out, e.Action+": "+e.Detail)
		}
	}
	return out
}

// TestWriteBackIsAudited: security T4, no administration change is in force without its
// event. The catalog store goes back to a state from before a role's creation and another's
// deletion, both answered and recorded; the replica that had them in force writes them back,
// and the trail holds, besides the admin's events, a role.put and a role.delete by
// system:writeback saying so, so that what is in force again has an event of its writing.
func TestWriteBackIsAudited(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})
	if got := ts.admin(t, "PUT", "/v1/roles/gone-role", `{"actions":["run:read"]}`); got.code != http.StatusCreated {
		t.Fatalf("PUT gone-role: %d %s", got.code, got.body)
	}
	goBack := catalogKeys(t, redis.Client())
	if got := ts.admin(t, "PUT", "/v1/roles/lost-role", `{"actions":["run:read"]}`); got.code != http.StatusCreated {
		t.Fatalf("PUT lost-role: %d %s", got.code, got.body)
	}
	if got := ts.admin(t, "DELETE", "/v1/roles/gone-role", ""); got.code != http.StatusNoContent && got.code != http.StatusOK {
		t.Fatalf("DELETE gone-role: %d %s", got.code, got.body)
	}
	goBack() // the store loses the creation and the deletion; the audit trail keeps its events

	want := []string{
		"role.delete: role gone-role written back at version 2",
		"role.put: role lost-role written back at version 1",
	}
	var got []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = writeBackEvents(t, ts); len(got) >= len(want) && storeHoldsRole(t, redis.Client(), "lost-role") {
			break
		}
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w+": the store lost this change")
		}
		if !found {
			t.Errorf("no event %q by system:writeback; its events: %q", w, got)
		}
	}
	if role := ts.admin(t, "GET", "/v1/roles/lost-role", ""); role.code != http.StatusOK {
		t.Errorf("GET lost-role after the write-back: %d %s", role.code, role.body)
	}
	if role := ts.admin(t, "GET", "/v1/roles/gone-role", ""); role.code != http.StatusNotFound {
		t.Errorf("GET gone-role after the write-back: %d %s", role.code, role.body)
	}
	fresh := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})
	if role := fresh.admin(t, "GET", "/v1/roles/lost-role", ""); role.code != http.StatusOK {
		t.Errorf("a replica started after the write-back: GET lost-role %d %s", role.code, role.body)
	}
}

// failingAppend is a memory trail whose appends numbered in fail (from 1) fail with err, having
// been appended all the same when land is set (a store that answered too late).
type failingAppend struct {
	*audit.Memory
	fail  map[int]bool
	err   error
	land  bool
	calls int
}

func (f *failingAppend) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	f.calls++
	if f.fail[f.calls] {
		if f.land {
			if _, err := f.Memory.Append(ctx, e, spaces); err != nil {
				return audit.Event{}, err
			}
		}
		return audit.Event{}, f.err
	}
	return f.Memory.Append(ctx, e, spaces)
}

// TestWriteBackNotWrittenBackIsAudited: security T4, the trail holds no success event of a
// write-back without a later one saying when it was not made. A write-back of a lost deletion
// and a lost put whose second event cannot be recorded is refused (nothing is committed): the
// first change's success event is followed by an error event saying it was not written back,
// and so is the second's when its append may still land (the store did not answer in time).
// A write-back recorded whose commit then goes stale is followed by one error event per change
// saying another change was committed first.
func TestWriteBackNotWrittenBackIsAudited(t *testing.T) {
	wb := catalog.WriteBack{Revision: 3, Had: 5, Changes: []catalog.WrittenBack{
		{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "leaked"}, Deleted: true, Version: 2},
		{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "r"}, Version: 1},
	}}
	const (
		keyDone     = "api_key.delete success: api_key leaked written back at version 2"
		roleDone    = "role.put success: role r written back at version 1"
		keyPartial  = "api_key.delete error: api_key leaked at version 2 not written back, another event of the same write-back"
		rolePartial = "role.put error: role r at version 1 not written back, another event of the same write-back"
		keyStale    = "api_key.delete error: api_key leaked at version 2 not written back, another change was committed first"
		roleStale   = "role.put error: role r at version 1 not written back, another change was committed first"
	)
	for _, tc := range []struct {
		name  string
		trail *failingAppend
		// stale, when set, has Before succeed and the commit go stale.
		stale bool
		want  []string
	}{
		{name: "second event refused outright", trail: &failingAppend{fail: map[int]bool{2: true}, err: errors.New("event too large")},
			want: []string{keyDone, keyPartial}},
		{name: "second event unconfirmed, landing later", trail: &failingAppend{fail: map[int]bool{2: true}, err: fmt.Errorf("append: %w", audit.ErrUnavailable), land: true},
			want: []string{keyDone, roleDone, keyPartial, rolePartial}},
		{name: "commit gone stale", trail: &failingAppend{}, stale: true,
			want: []string{keyDone, roleDone, keyStale, roleStale}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tc.trail.Memory = audit.NewMemory()
			rec := writeBackRecord{s: &Server{log: slog.New(slog.DiscardHandler), events: &auditRecorder{store: tc.trail, now: time.Now}}}
			err := rec.Before(ctx, wb)
			if tc.stale {
				if err != nil {
					t.Fatal(err)
				}
				rec.NotCommitted(ctx, wb, fmt.Errorf("commit: %w", catalog.ErrStale))
			} else if err == nil {
				t.Fatal("Before succeeded although the second event could not be recorded")
			}
			events, _, err := tc.trail.List(ctx, "root", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events {
				got = append(got, e.Action+" "+e.Outcome+": "+e.Detail)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %q, want %d beginning %q", got, len(tc.want), tc.want)
			}
			for i := range tc.want {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("event %d: %q, want it to begin %q", i, got[i], tc.want[i])
				}
			}
			// Each change's event is filed under its own object's space: it names no other
			// object, which that space's auditors may not read of.
			for _, e := range events {
				for _, ch := range wb.Changes {
					if other := ch.Ref.String(); !strings.HasPrefix(e.Detail, other) && strings.Contains(e.Detail, other) {
						t.Errorf("event %q names another change's object %q", e.Detail, other)
					}
				}
			}
		})
	}
}

// TestWriteBackIsFiledUnderItsSpace: the event of a change written back is filed where the
// admin API files that object's changes, so the auditors of its space see it: a stack created
// in team-a that the store lost is written back with an event in team-a's listing, naming the
// stack. On the old code it was filed under root only, out of team-a's auditors' sight.
func TestWriteBackIsFiledUnderItsSpace(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})
	goBack := catalogKeys(t, redis.Client())
	ts.admin(t, "PUT", "/v1/stacks/lost-stack", `{"space":"team-a"}`).expect(t, "stack lost-stack", http.StatusCreated)
	goBack()

	var found *audit.Event
	for deadline := time.Now().Add(15 * time.Second); found == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, e := range auditEvents(t, ts, "team-a", 500) {
			if e.Actor == "system:writeback" && e.Action == "stack.put" {
				found = &e
				break
			}
		}
	}
	if found == nil {
		t.Fatalf("no stack.put by system:writeback in team-a's listing; root's write-back events: %q", writeBackEvents(t, ts))
	}
	if found.Space != "team-a" || found.Stack != "lost-stack" {
		t.Errorf("the write-back event is filed under space %q, stack %q; want team-a, lost-stack", found.Space, found.Stack)
	}
	for _, e := range auditEvents(t, ts, "team-b", 500) {
		if e.Actor == "system:writeback" {
			t.Errorf("team-b's listing shows the write-back of team-a's stack: %s %s", e.Action, e.Detail)
		}
	}
}
