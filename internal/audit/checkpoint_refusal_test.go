package audit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/keys"
)

// flakyStore is a Store whose List can fail (and fails past 50 calls, so that a walk that never
// ends shows) and whose Head can be rewritten.
type flakyStore struct {
	audit.Store
	failList atomic.Bool
	lists    atomic.Int64
	head     func(audit.Head) audit.Head
}

func (z *flakyStore) List(ctx context.Context, space, cursor string, limit int) ([]audit.Event, string, error) {
	if z.failList.Load() || z.lists.Add(1) > 50 {
		return nil, "", errors.New("list failed")
	}
	return z.Store.List(ctx, space, cursor, limit)
}

func (z *flakyStore) Head(ctx context.Context) (audit.Head, error) {
	h, err := z.Store.Head(ctx)
	if err == nil && z.head != nil {
		h = z.head(h)
	}
	return h, err
}

// newTestCheckpointer is a Checkpointer on st signing with f, every events apart.
func newTestCheckpointer(t *testing.T, st audit.Store, f *fakeSign, every int64) *audit.Checkpointer {
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: st, Sign: f.sign, Issuer: "https://broker.test", Space: "root",
		Every: every, Interval: time.Hour, Now: (&clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).Now})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// signedReplicas returns a Memory shared by checkpointers that sign with one ES256 key, five
// events apart, and a maker of such checkpointers: with the key's JWKS as their published keys
// when published is set (they verify the store's checkpoints at start and follow them), without
// keys otherwise.
func signedReplicas(t *testing.T) (*audit.Memory, func(published bool) *audit.Checkpointer) {
	t.Helper()
	s := newCheckpointSigner(t)
	m := audit.NewMemory()
	return m, func(published bool) *audit.Checkpointer {
		if published {
			return s.replica(t, sharedMemory{m}, s.published)
		}
		return s.replica(t, sharedMemory{m}, nil)
	}
}

// TestRefusalStaysWhenTheChainIsPutBack: a refusal to sign over a changed chain lasts until
// restart, even once a store writer puts the chain back as it was.
func TestRefusalStaysWhenTheChainIsPutBack(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	cp := newTestCheckpointer(t, sharedMemory{m}, &fakeSign{}, 4)
	appendN(t, cp, 4)
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Fatal(wrote, err)
	}
	held, _, _ := m.List(ctx, "root", "", 100)
	audit.MemoryTamperer{M: m}.Replace(t, held[1:])
	appendN(t, cp, 4)
	if wrote, err := cp.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Fatal("tampered", wrote, err)
	}
	audit.MemoryTamperer{M: m}.Replace(t, held) // put back
	appendN(t, cp, 4)
	if wrote, err := cp.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("after the chain was put back: written %v, %v; want the refusal to stay", wrote, err)
	}
}

// TestStoreErrorIsNoRefusal: a store that fails to list once is an error of that check, not a
// refusal: the next check signs.
func TestStoreErrorIsNoRefusal(t *testing.T) {
	ctx := context.Background()
	z := &flakyStore{Store: audit.NewMemory()}
	cp := newTestCheckpointer(t, z, &fakeSign{}, 4)
	appendN(t, cp, 4)
	z.failList.Store(true)
	if wrote, err := cp.Check(ctx); wrote || err == nil || errors.Is(err, audit.ErrNotExtended) {
		t.Fatal("failing list", wrote, err)
	}
	z.failList.Store(false)
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Errorf("after the store recovered: %v, %v", wrote, err)
	}
}

// TestSigningFailureIsRetried: a checkpoint whose signature failed is signed at the next check,
// on a checked (shared) store too.
func TestSigningFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	f := &fakeSign{err: errors.New("hsm down")}
	cp := newTestCheckpointer(t, sharedMemory{audit.NewMemory()}, f, 5)
	appendN(t, cp, 5)
	if wrote, err := cp.Check(ctx); wrote || err == nil {
		t.Fatal(wrote, err)
	}
	f.err = nil
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Errorf("retry after a signing failure: %v, %v", wrote, err)
	}
}

// TestCheckWalksPastAPage: a chain one event longer than a page of the check is checked to its
// end and signed.
func TestCheckWalksPastAPage(t *testing.T) {
	cp := newTestCheckpointer(t, sharedMemory{audit.NewMemory()}, &fakeSign{}, 101)
	appendN(t, cp, 101)
	if wrote, err := cp.Check(context.Background()); !wrote || err != nil {
		t.Errorf("101 events: %v, %v", wrote, err)
	}
}

// TestHeadPastTheListingIsRefused: a store whose head counts more events than it lists is
// refused, not walked for ever.
func TestHeadPastTheListingIsRefused(t *testing.T) {
	z := &flakyStore{Store: audit.NewMemory(), head: func(h audit.Head) audit.Head { h.Count++; return h }}
	cp := newTestCheckpointer(t, z, &fakeSign{}, 4)
	appendN(t, cp, 4)
	if wrote, err := cp.Check(context.Background()); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("head past the listing: %v, %v", wrote, err)
	}
}

// TestTailNotTheLastEventsHashIsRefused: a store whose tail is not the hash of its last event
// (on Redis the tail is a key of its own) is refused.
func TestTailNotTheLastEventsHashIsRefused(t *testing.T) {
	z := &flakyStore{Store: audit.NewMemory(), head: func(h audit.Head) audit.Head { h.Tail = "bogus"; return h }}
	cp := newTestCheckpointer(t, z, &fakeSign{}, 4)
	appendN(t, cp, 4)
	if wrote, err := cp.Check(context.Background()); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("tail not the last event's hash: %v, %v", wrote, err)
	}
}

// TestCheckpointIndexMovedBackIsRefused: a restarted replica does not trust a checkpoint the
// index points at before the position the checkpoint covers (a copy put in place of an event).
func TestCheckpointIndexMovedBackIsRefused(t *testing.T) {
	ctx := context.Background()
	m, mk := signedReplicas(t)
	held := checkpointedTrail(t, m, mk, 3)
	forged := append([]audit.Event(nil), held...)
	forged[2] = held[5] // event 2 replaced by a copy of the checkpoint, the index pointed at it
	audit.MemoryTamperer{M: m}.Replace(t, forged)
	audit.MemoryTamperer{M: m}.PointCheckpointAt(2)
	b := mk(true)
	appendN(t, b, 5)
	if wrote, err := b.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("checkpoint at 2 covering 5: %v, %v", wrote, err)
	}
}

// TestUnverifiedLatestCheckpointNotTrusted: a latest checkpoint that does not verify with the
// published keys is not trusted at start: the chain is checked from its first event, and
// signed when intact.
func TestUnverifiedLatestCheckpointNotTrusted(t *testing.T) {
	ctx := context.Background()
	m, mk := signedReplicas(t)
	other, _ := keys.Generate(keys.ES256, time.Now())
	held := checkpointedTrail(t, m, mk, 2)
	held[5].Detail, _ = issuer.SignCompact(other, audit.CheckpointType, []byte(`{"iss":"https://broker.test","count":5,"tail":"x","time":"2026-01-01T00:00:00Z"}`))
	relink(t, held)
	audit.MemoryTamperer{M: m}.Replace(t, held)
	b := mk(true)
	appendN(t, b, 5)
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Errorf("unverified latest checkpoint, intact chain: %v, %v", wrote, err)
	}
}

// checkpointedTrail has a replica of signedReplicas without published keys append five events,
// sign them with its checkpoint (the sixth event) and append more, and returns the events m
// then holds.
func checkpointedTrail(t *testing.T, m *audit.Memory, mk func(published bool) *audit.Checkpointer, more int) []audit.Event {
	t.Helper()
	ctx := context.Background()
	a := mk(false)
	appendN(t, a, 5)
	if wrote, err := a.Check(ctx); !wrote || err != nil {
		t.Fatal(wrote, err)
	}
	appendN(t, a, more)
	held, _, err := m.List(ctx, "root", "", 100)
	if err != nil || len(held) != 6+more {
		t.Fatalf("listed %d events, %v; want %d", len(held), err, 6+more)
	}
	return held
}

// relink sets each event's Prev to the hash of the one before it, as a store writer who cannot
// sign can after changing or removing events.
func relink(t *testing.T, events []audit.Event) {
	t.Helper()
	prev := ""
	for i := range events {
		events[i].Prev = prev
		var err error
		if prev, err = audit.Hash(events[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefusalStaysAfterFollowingAPeer: a replica that refused to follow a peer's checkpoint over
// a rewrite keeps refusing once the chain is put back.
func TestRefusalStaysAfterFollowingAPeer(t *testing.T) {
	ctx := context.Background()
	m, mk := signedReplicas(t)
	a := mk(true)
	appendN(t, a, 5)
	if wrote, err := a.Check(ctx); !wrote || err != nil {
		t.Fatal(wrote, err)
	}
	appendN(t, a, 1)
	if wrote, err := a.Check(ctx); wrote || err != nil { // follows its own checkpoint
		t.Fatal(wrote, err)
	}
	held, _, _ := m.List(ctx, "root", "", 100)
	forged := append([]audit.Event(nil), held[:5]...)
	forged[2].Detail = "scope write"
	forged = append(forged, held[6])
	prev := ""
	for i := range forged {
		forged[i].Prev = prev
		prev, _ = audit.Hash(forged[i])
	}
	audit.MemoryTamperer{M: m}.Replace(t, forged)
	b := mk(true)
	appendN(t, b, 5)
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Fatal("peer", wrote, err)
	}
	if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Fatal("a follows", wrote, err)
	}
	audit.MemoryTamperer{M: m}.Replace(t, held)
	appendN(t, a, 5)
	if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("after the chain was put back: %v, %v; want the refusal to stay", wrote, err)
	}
}
