package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// unsureMode is how an unsureMemory answers.
type unsureMode int32

const (
	// answers: everything works.
	answers unsureMode = iota
	// refuses: Append fails and appends nothing.
	refuses
	// losesReply: Append appends, then fails (a client timeout while the store stalls).
	losesReply
	// unreachable: Append, Head and Range fail.
	unreachable
)

// unsureMemory is a memory trail whose appends can fail after landing, counting the appends
// tried.
type unsureMemory struct {
	*audit.Memory
	mode  atomic.Int32
	sends atomic.Int32
}

var errUnsure = errors.New("trail unreachable")

func (u *unsureMemory) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	u.sends.Add(1)
	switch unsureMode(u.mode.Load()) {
	case refuses, unreachable:
		return audit.Event{}, errUnsure
	case losesReply:
		if _, err := u.Memory.Append(ctx, e, spaces); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{}, errUnsure
	}
	return u.Memory.Append(ctx, e, spaces)
}

func (u *unsureMemory) Head(ctx context.Context) (audit.Head, error) {
	if unsureMode(u.mode.Load()) == unreachable {
		return audit.Head{}, errUnsure
	}
	return u.Memory.Head(ctx)
}

func (u *unsureMemory) Range(ctx context.Context, from int64, limit int) ([]audit.Event, int64, error) {
	if unsureMode(u.mode.Load()) == unreachable {
		return nil, from, errUnsure
	}
	return u.Memory.Range(ctx, from, limit)
}

// keyEventsIn returns how many times the trail holds an event of action, after checking that
// its chain verifies.
func keyEventsIn(t *testing.T, store audit.Store, action string) int {
	t.Helper()
	events, _, err := store.List(context.Background(), config.RootSpace, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(events); err != nil {
		t.Fatalf("chain: %v", err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

// A key-set event whose append failed is looked for in the chain, past the length read before
// its first send, before it is sent again: one that landed after all is dropped from the queue
// as appended, so the trail holds it once; one the chain does not hold is sent again; while
// the chain cannot be read (nor, before the first send, its length) it waits, and the record
// stays put. On the old code an append that landed but failed was chained a second time by the
// retry, and the chain still verified.
func TestKeySetEventRetryLooksForLanded(t *testing.T) {
	rotated := keys.Change{Generation: 2, NewKID: "k2", NewAlg: "ES256",
		InForce: keys.SetMeta{Generation: 2, Keys: []keys.Meta{{KID: "k2", Alg: "ES256"}}}}
	tests := []struct {
		name string
		// first is how the trail answers the first try; retries, how it answers each retry
		// after which the event must still wait. The trail then answers.
		first   unsureMode
		retries []unsureMode
		// sends is how many appends the event takes in all.
		sends int32
	}{
		{name: "landed though its append failed", first: losesReply, sends: 1},
		{name: "not landed", first: refuses, sends: 2},
		{name: "not landed, twice", first: refuses, retries: []unsureMode{refuses}, sends: 3},
		{name: "landed, the check fails meanwhile", first: losesReply, retries: []unsureMode{unreachable}, sends: 1},
		{name: "the chain's length unreadable: not sent", first: unreachable, retries: []unsureMode{unreachable}, sends: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			trail := &unsureMemory{Memory: audit.NewMemory()}
			record := &audit.MemoryKeySet{}
			rec := &auditRecorder{store: trail, chain: trail, keySet: record, now: time.Now}
			request := func(id string) {
				t.Helper()
				if _, err := trail.Memory.Append(ctx, audit.Event{ID: id, Time: time.Now().UTC().Format(time.RFC3339Nano),
					Actor: "api_key:x", Action: "run.create", Space: config.RootSpace, Outcome: audit.Success}, []string{config.RootSpace}); err != nil {
					t.Fatal(err)
				}
			}
			stillWaits := func(when string) {
				t.Helper()
				rec.keyMu.Lock()
				n := len(rec.keyWaiting)
				rec.keyMu.Unlock()
				if n != 1 {
					t.Fatalf("%s: %d events wait, want 1", when, n)
				}
				if _, found, _ := record.LoadKeySet(ctx); found {
					t.Fatalf("%s: the record moved with the event unconfirmed", when)
				}
			}
			request("before")
			trail.mode.Store(int32(tt.first))
			rec.recordKeys(ctx, rotated)
			stillWaits("after the first try")
			for i, m := range tt.retries {
				request("between") // another request of the replica lands meanwhile
				trail.mode.Store(int32(m))
				rec.keyMu.Lock()
				rec.flushKeyEvents(ctx)
				rec.keyMu.Unlock()
				stillWaits(fmt.Sprintf("after retry %d", i+1))
			}
			trail.mode.Store(int32(answers))
			request("after")
			rec.keyMu.Lock()
			rec.flushKeyEvents(ctx)
			waiting := len(rec.keyWaiting)
			rec.keyMu.Unlock()

			if waiting != 0 {
				t.Errorf("%d events still wait with the trail answering", waiting)
			}
			if n := keyEventsIn(t, trail, "keys.rotate"); n != 1 {
				t.Errorf("the trail holds the keys.rotate event %d times, want once", n)
			}
			if got := trail.sends.Load(); got != tt.sends {
				t.Errorf("the event was sent %d times, want %d", got, tt.sends)
			}
			if r, found, err := record.LoadKeySet(ctx); err != nil || !found || r.Generation != 2 {
				t.Errorf("record = generation %d (found %v, %v), want 2", r.Generation, found, err)
			}
		})
	}
}

// The replica's recorder looks for a failed key-set event in the chain its store keeps.
func TestKeySetEventRetryReadsTheChain(t *testing.T) {
	srv, _, trail := unservedServer(t)
	if srv.events.chain != audit.Reader(trail) {
		t.Errorf("the recorder reads %T, want the replica's trail", srv.events.chain)
	}
}

// On Redis, an append that times out on the client while Redis is busy (a slow command, a
// failover's stall) is run by Redis afterwards; with another event of the replica landed in
// between, the store's landed key no longer recognizes a resend. The retry finds the event in
// the chain and does not append it again. Redis turns busy right after the chain's length is
// read, so the append itself is what times out.
func TestKeySetEventTimedOutOnRedisRecordedOnce(t *testing.T) {
	srv := redistest.Start(t)
	c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: 300 * time.Millisecond, Prefix: "keyq:"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	store := c.Audit()
	chain, ok := store.(audit.Reader)
	if !ok {
		t.Fatalf("the Redis trail %T reads no range", store)
	}
	request := func(id string) {
		t.Helper()
		if _, err := store.Append(ctx, audit.Event{ID: id, Time: time.Now().UTC().Format(time.RFC3339Nano), Actor: "api_key:x",
			Action: "run.create", Space: config.RootSpace, Outcome: audit.Success}, []string{config.RootSpace}); err != nil {
			t.Fatal(err)
		}
	}
	request("warm") // loads the script

	// Redis is busy for a second from just after the length read: the append times out on the
	// client, and Redis runs it after.
	busy := make(chan error, 1)
	stalling := &busyAfterHead{Store: store, stall: func() {
		go func() {
			busy <- srv.Client().Eval(ctx, `local t = redis.call('TIME'); local s = t[1]*1000000+t[2]
				while true do local n = redis.call('TIME'); if n[1]*1000000+n[2] - s > 1000000 then break end end
				return 1`, nil).Err()
		}()
		time.Sleep(100 * time.Millisecond)
	}}
	rec := &auditRecorder{store: stalling, chain: chain, keySet: c.AuditKeySet(), now: time.Now}
	rec.recordKeys(ctx, keys.Change{Generation: 2, NewKID: "k2", NewAlg: "ES256", Activates: time.Now(),
		InForce: keys.SetMeta{Generation: 2, Keys: []keys.Meta{{KID: "k2", Alg: "ES256"}}}})
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	rec.keyMu.Lock()
	waiting := len(rec.keyWaiting)
	sent := waiting == 1 && rec.keyWaiting[0].sent
	rec.keyMu.Unlock()
	if !sent {
		t.Fatalf("the event was not sent and left waiting (waiting %d, sent %v): the append did not time out", waiting, sent)
	}
	time.Sleep(200 * time.Millisecond)
	request("between") // a request of this replica, before the retry
	rec.keyMu.Lock()
	rec.flushKeyEvents(ctx)
	waiting = len(rec.keyWaiting)
	rec.keyMu.Unlock()

	if waiting != 0 {
		t.Errorf("%d events still wait with Redis answering", waiting)
	}
	if n := keyEventsIn(t, store, "keys.rotate"); n != 1 {
		t.Errorf("the trail holds the keys.rotate event %d times, want once", n)
	}
}

// busyAfterHead is an audit.Store that calls stall after each Head it answers, once.
type busyAfterHead struct {
	audit.Store
	stall func()
	done  bool
}

func (s *busyAfterHead) Head(ctx context.Context) (audit.Head, error) {
	h, err := s.Store.Head(ctx)
	if !s.done {
		s.done = true
		s.stall()
	}
	return h, err
}
