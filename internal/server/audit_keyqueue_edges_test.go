package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// countingTrail is a memory trail whose appends of one action, and whose length reads, can be
// refused, counting the appends tried.
type countingTrail struct {
	*audit.Memory
	refuse   atomic.Value // action whose appends fail ("" for none)
	headDown atomic.Bool
	sends    atomic.Int32
}

func (p *countingTrail) Append(ctx context.Context, e audit.Event,
	spaces []string) (audit.Event, error) {
	p.sends.Add(1)
	if a, _ := p.refuse.Load().(string); a != "" && a == e.Action {
		return audit.Event{}, errors.New("trail refuses " + a)
	}
	return p.Memory.Append(ctx, e, spaces)
}

func (p *countingTrail) Head(ctx context.Context) (audit.Head, error) {
	if p.headDown.Load() {
		return audit.Head{}, errors.New("length unreadable")
	}
	return p.Memory.Head(ctx)
}

// fillTrail appends n request events to trail, with IDs fill-0 to fill-(n-1).
func fillTrail(t *testing.T, trail audit.Store, n int) {
	t.Helper()
	for i := range n {
		ev := audit.Event{ID: fmt.Sprintf("fill-%d", i), Actor: "api_key:x",
			Time:   time.Now().UTC().Format(time.RFC3339Nano),
			Action: "run.create", Space: config.RootSpace, Outcome: audit.Success}
		_, err := trail.Append(context.Background(), ev, []string{config.RootSpace})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// flushKeyQueue runs the recorder's flush as the retry loop does.
func flushKeyQueue(rec *auditRecorder) {
	rec.keyMu.Lock()
	rec.flushKeyEvents(context.Background())
	rec.keyMu.Unlock()
}

// TestKeyEventLandedOnALaterPage: the landed check reads the chain from the length read
// before the first send to its end, a page after another, so an event that landed past a
// whole page of other events is still found, and counts as landed.
// Guards against: audit_keyqueue.go:keyEventLanded next page starts past the event after the page
func TestKeyEventLandedOnALaterPage(t *testing.T) {
	ctx := context.Background()
	trail := audit.NewMemory()
	fillTrail(t, trail, 3)
	w := &keyEvent{event: audit.Event{ID: "the-key-event", Actor: "system:keys",
		Action: "keys.rotate", Space: config.RootSpace, Outcome: audit.Success,
		Detail: "generation 2"}, sent: true, from: 3}
	fillTrail(t, trail, landedPage) // a page's worth of requests land before the event does
	ev := w.event
	ev.Time = time.Now().UTC().Format(time.RFC3339Nano)
	if _, err := trail.Append(ctx, ev, []string{config.RootSpace}); err != nil {
		t.Fatal(err)
	}
	fillTrail(t, trail, 2)
	rec := &auditRecorder{store: trail, chain: trail, now: time.Now}
	landed, err := rec.keyEventLanded(ctx, w)
	if err != nil || !landed {
		t.Errorf("landed = %v, %v; want true: the chain holds the event at position %d",
			landed, err, 3+landedPage)
	}
}

// TestKeyEventResentWithoutLengthRead: the chain's length is read before an event's first
// send only; a resend of an event whose first append failed (and did not land) does not wait
// for another length read, and the event is in the trail once.
// Guards against: audit_keyqueue.go:sendKeyEvent reads the chain's length before every send
func TestKeyEventResentWithoutLengthRead(t *testing.T) {
	ctx := context.Background()
	trail := &countingTrail{Memory: audit.NewMemory()}
	record := &audit.MemoryKeySet{}
	rec := &auditRecorder{store: trail, chain: trail, keySet: record, now: time.Now}
	trail.refuse.Store("keys.rotate")
	rec.recordKeys(ctx, keys.Change{Generation: 2, NewKID: "k2", NewAlg: "ES256",
		InForce: keys.SetMeta{Generation: 2, Keys: []keys.Meta{{KID: "k2", Alg: "ES256"}}}})
	trail.refuse.Store("")
	trail.headDown.Store(true) // appends and reads work; only the length read fails
	flushKeyQueue(rec)
	if len(rec.keyWaiting) != 0 {
		t.Errorf("%d events still wait with the trail taking appends", len(rec.keyWaiting))
	}
	if n := keyEventsIn(t, trail, "keys.rotate"); n != 1 {
		t.Errorf("the trail holds the keys.rotate event %d times, want once", n)
	}
	if r, found, _ := record.LoadKeySet(ctx); !found || r.Generation != 2 {
		t.Errorf("record = generation %d (found %v), want 2", r.Generation, found)
	}
}

// TestKeySetRecordWaitsForTheWholeQueue: the key set the trail last recorded is saved
// only once no key-set event waits: with an older event appended and a newer one refused, the
// record keeps the set it named before either.
// Guards against: audit_keyqueue.go:flushKeyEvents saves the record after each appended event
func TestKeySetRecordWaitsForTheWholeQueue(t *testing.T) {
	ctx := context.Background()
	trail := &countingTrail{Memory: audit.NewMemory()}
	record := &audit.MemoryKeySet{}
	if err := record.SaveKeySet(ctx, keys.SetMeta{Generation: 1}); err != nil {
		t.Fatal(err)
	}
	rec := &auditRecorder{store: trail, keySet: record, now: time.Now}
	trail.refuse.Store("keys.revoke")
	rec.recordLoadedKeys(ctx, keys.Loaded{From: 1, Generation: 2, Revoked: []string{"k1"},
		InForce: keys.SetMeta{Generation: 2}})
	trail.refuse.Store("keys.rotate") // the revocation goes in, the rotation after it does not
	rec.recordKeys(ctx, keys.Change{Generation: 3, NewKID: "k3", NewAlg: "ES256",
		InForce: keys.SetMeta{Generation: 3}})
	if n := len(rec.keyWaiting); n != 1 {
		t.Fatalf("%d events wait, want the rotation only", n)
	}
	if r, _, _ := record.LoadKeySet(ctx); r.Generation != 1 {
		t.Errorf("record = generation %d with an event still waiting, want 1", r.Generation)
	}
}

// TestKeyEventChangeTimeBoundary: a key-set event appended exactly one second from when
// its change happened (later or earlier) does not name the change's time; one more than a
// second away does.
// Guards against: audit_keyqueue.go:sendKeyEvent d > time.Second became d >= time.Second
// Guards against: audit_keyqueue.go:sendKeyEvent d < -time.Second became d <= -time.Second
func TestKeyEventChangeTimeBoundary(t *testing.T) {
	changed := time.Date(2030, 1, 1, 0, 5, 0, 0, time.UTC)
	for _, tt := range []struct {
		after time.Duration
		names bool
	}{
		{time.Second, false}, {-time.Second, false},
		{time.Second + time.Nanosecond, true}, {-time.Second - time.Nanosecond, true},
	} {
		t.Run(tt.after.String(), func(t *testing.T) {
			store := audit.NewMemory()
			at := changed.Add(tt.after)
			rec := &auditRecorder{store: store, now: func() time.Time { return at }}
			w := &keyEvent{event: audit.Event{ID: "k", Actor: "system:keys",
				Action: "keys.rotate", Space: config.RootSpace, Outcome: audit.Success,
				Detail: "generation 2"}, at: changed}
			if err := rec.sendKeyEvent(context.Background(), w); err != nil {
				t.Fatal(err)
			}
			got := listedIn(t, store, config.RootSpace)
			if len(got) != 1 {
				t.Fatalf("stored %d events, want 1", len(got))
			}
			if names := strings.Contains(got[0].Detail, "changed at"); names != tt.names {
				t.Errorf("detail %q names the change time: %v, want %v",
					got[0].Detail, names, tt.names)
			}
		})
	}
}
