package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// A key-set change made while no replica runs (an incident: stop every replica, `broker keys
// revoke`, start again; or `broker keys rotate`) reaches the trail: the restarted replica
// compares the set it loads with the one the trail last recorded, kept beside the trail in
// Redis, and records the difference as keys.revoke or keys.load, once. A restart without a
// change records nothing; a store that kept no record (from before it was kept) gets one, and
// nothing is recorded that would not be today.
func TestKeyChangeWhileNoReplicaRunsRecorded(t *testing.T) {
	tests := []struct {
		name string
		// forget deletes the record before the change: a store written by an older broker.
		forget bool
		// change changes the key set while no replica runs and returns the action and the
		// KIDs the trail must name; "" when nothing is to be recorded.
		change func(t *testing.T, b keys.Backend, p keys.Policy, set keys.Set) (action string, kids []string)
	}{
		{name: "revoke", change: revoke},
		{name: "rotate", change: func(t *testing.T, b keys.Backend, p keys.Policy, set keys.Set) (string, []string) {
			started, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: p, Now: time.Now()})
			if err != nil || len(started) != 1 {
				t.Fatalf("StartRotation = %+v, %v", started, err)
			}
			return "keys.load", []string{started[0].KID, started[0].Retired}
		}},
		{name: "no change", change: func(*testing.T, keys.Backend, keys.Policy, keys.Set) (string, []string) { return "", nil }},
		{name: "revoke on a store without a record", forget: true, change: func(t *testing.T, b keys.Backend, p keys.Policy, set keys.Set) (string, []string) {
			revoke(t, b, p, set)
			return "", nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			redis := redistest.Start(t)
			opts := serverOptions{redisURL: redis.URL(), keyBackend: "file", keyDir: t.TempDir(), keyRefresh: 50 * time.Millisecond}
			ts := startServer(t, opts)
			backend, set := openKeyBackend(t, ts)
			before := keyEvents(t, ts)
			client := ts.srv.state.redis
			recordKey := client.Prefix() + "audit:keyset"
			if tt.forget {
				if err := client.Redis().Del(ctx, recordKey).Err(); err != nil {
					t.Fatal(err)
				}
			}
			ts.stop()

			action, kids := tt.change(t, backend, KeyPolicy(ts.srv.cfg), set)
			ts2 := startServer(t, opts)
			after := keyEvents(t, ts2)
			if len(after) < len(before) {
				t.Fatalf("the trail lost keys.* events: %d before, %d after", len(before), len(after))
			}
			added := after[len(before):]
			if action == "" {
				if len(added) != 0 {
					t.Errorf("the restart recorded %d keys.* events, want none: %+v", len(added), added)
				}
			} else {
				if len(added) != 1 || added[0].Action != action || added[0].Actor != "system:keys" {
					t.Fatalf("the restart recorded %+v; want one %s event of the change made while no replica ran", added, action)
				}
				for _, kid := range kids {
					if !strings.Contains(added[0].Detail, kid) {
						t.Errorf("the %s event does not name key %s: %s", action, kid, added[0].Detail)
					}
				}
			}
			inForce, err := ts2.srv.keys.InForce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			recorded, found, err := ts2.srv.state.auditKeySet.LoadKeySet(ctx)
			if err != nil || !found || recorded.Generation != inForce.Generation || len(recorded.Keys) != len(inForce.Keys) {
				t.Errorf("after the restart the record is %+v (found %v, %v), want the set in force %+v", recorded, found, err, inForce)
			}
		})
	}
}

// revoke revokes the first key of set with `broker keys revoke`'s function and returns what the
// trail must say of it: keys.revoke naming the key and its replacement.
func revoke(t *testing.T, b keys.Backend, _ keys.Policy, set keys.Set) (string, []string) {
	t.Helper()
	rev, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: b, KID: set.Keys[0].KID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return "keys.revoke", []string{rev.KID, rev.NewKID}
}

// keyEvents returns the keys.* events of ts's trail, oldest first.
func keyEvents(t *testing.T, ts *testServer) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, e := range auditEvents(t, ts, "root", 100) {
		if strings.HasPrefix(e.Action, "keys.") {
			out = append(out, e)
		}
	}
	return out
}

// TestStartThatCannotReadTheKeySetRecordKeepsIt: a replica that starts while the record of the
// key set the trail last recorded cannot be read logs it and leaves the record as it is,
// instead of replacing it with the set in force. A key-set change made while no replica ran is
// then recorded by the first start that reads the record again, not lost.
// Guards against: server.go saving the set in force when loadKeySet failed (`known &&` dropped)
func TestStartThatCannotReadTheKeySetRecordKeepsIt(t *testing.T) {
	ctx := context.Background()
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "file", keyDir: t.TempDir(), keyRefresh: 50 * time.Millisecond}
	ts := startServer(t, opts)
	backend, set := openKeyBackend(t, ts)
	before := keyEvents(t, ts)
	rdb := redis.Client()
	recordKey := ts.srv.state.redis.Prefix() + "audit:keyset"
	record, err := rdb.Get(ctx, recordKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ts.stop()

	_, kids := revoke(t, backend, KeyPolicy(ts.srv.cfg), set)
	if err := rdb.Set(ctx, recordKey, "not a record", 0).Err(); err != nil {
		t.Fatal(err)
	}
	unreadable := startServer(t, opts)
	if !strings.Contains(unreadable.Logs.String(), "could not read the key set the trail last recorded") {
		t.Error("the start that could not read the record did not log it")
	}
	unreadable.stop()
	if got, err := rdb.Get(ctx, recordKey).Result(); err != nil || got != "not a record" {
		t.Fatalf("the start that could not read the record replaced it with %q (%v)", got, err)
	}

	if err := rdb.Set(ctx, recordKey, record, 0).Err(); err != nil { // readable again
		t.Fatal(err)
	}
	ts3 := startServer(t, opts)
	var added []audit.Event
	for _, e := range keyEvents(t, ts3)[len(before):] {
		if e.Action == "keys.revoke" {
			added = append(added, e)
		}
	}
	if len(added) != 1 {
		t.Fatalf("the trail holds %d keys.revoke events of the change made while no replica ran, want 1: %+v", len(added), added)
	}
	for _, kid := range kids {
		if !strings.Contains(added[0].Detail, kid) {
			t.Errorf("the keys.revoke event does not name key %s: %s", kid, added[0].Detail)
		}
	}
}
