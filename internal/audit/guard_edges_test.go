package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestGuardRefusesAShorterChainWithTheTrustedTail: A store that now holds fewer events than the
// replica checked, even one fewer, its tail left at the hash the replica trusted (a writer removed
// the last events and kept the tail key), is refused with ErrNotExtended before anything is
// signed: a checkpoint over it would claim the first events end in a hash they do not.
// Guards against: extends without its head.Count < from.count check, or comparing with
// from.count-1.
func TestGuardRefusesAShorterChainWithTheTrustedTail(t *testing.T) {
	for _, count := range []int64{10, 8} { // one event short, three short
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			ctx := context.Background()
			m := audit.NewMemory()
			z := &flakyStore{Store: m}
			f := &fakeSign{}
			cp := newTestCheckpointer(t, z, f, 5)
			for round := range 2 { // the replica checks and trusts the first 11 events
				appendN(t, cp, 5)
				if wrote, err := cp.Check(ctx); !wrote || err != nil {
					t.Fatalf("round %d: checkpoint written %v, %v", round, wrote, err)
				}
			}
			all, _, _ := m.List(ctx, "root", "", 100)
			trustedTail, err := audit.Hash(all[10]) // the last event the second checkpoint covers
			if err != nil {
				t.Fatal(err)
			}
			z.head = func(audit.Head) audit.Head { return audit.Head{Count: count, Tail: trustedTail} }
			signed := f.calls.Load()
			wrote, err := cp.Check(ctx)
			if wrote || !errors.Is(err, audit.ErrNotExtended) {
				t.Errorf("over a chain of %d events after 11 were checked: written %v, %v; want none, ErrNotExtended", count, wrote, err)
			}
			if n := f.calls.Load() - signed; n != 0 {
				t.Errorf("%d checkpoints signed over the shorter chain", n)
			}
		})
	}
}

// mangledStore is a Store whose List returns the event at position bad with a field that is not
// valid UTF-8 (so it has no hash), and whose Head says the chain's tail is "" (as a writer who
// emptied the tail key would have it).
type mangledStore struct {
	audit.Store
	bad int64
}

func (s mangledStore) List(ctx context.Context, space, cursor string, limit int) ([]audit.Event, string, error) {
	evs, next, err := s.Store.List(ctx, space, cursor, limit)
	from, _ := audit.ParseCursor(cursor)
	for i := range evs {
		if from+int64(i) == s.bad {
			evs[i].Detail = "\xff"
		}
	}
	return evs, next, err
}

func (s mangledStore) Head(ctx context.Context) (audit.Head, error) {
	h, err := s.Store.Head(ctx)
	h.Tail = ""
	return h, err
}

// TestGuardRefusesAnEventWithoutAHash: An event the guard cannot hash is a refusal
// (ErrNotExtended), even as the last event of a chain whose tail reads "": nothing is signed over
// it. Guards against: extends ignoring Hash's error.
func TestGuardRefusesAnEventWithoutAHash(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	f := &fakeSign{}
	cp := newTestCheckpointer(t, mangledStore{Store: m, bad: 4}, f, 5)
	appendN(t, cp, 5)
	wrote, err := cp.Check(ctx)
	if wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("over a chain whose last event has no hash: written %v, %v; want none, ErrNotExtended", wrote, err)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("%d checkpoints signed over it", n)
	}
}

// TestStartWarnsOfAChainWithoutCheckpoints: A replica whose first check of a shared store finds a
// chain longer than twice Every with no checkpoint at all warns (checkpoints may have been removed)
// before it anchors it; a shorter one draws no warning. Guards against: startTrust without its
// warning.
func TestStartWarnsOfAChainWithoutCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		events int
		warn   bool
	}{{10, false}, {11, true}} {
		var logs syncbuf.Buffer
		m := audit.NewMemory()
		cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: &flakyStore{Store: m}, Sign: (&fakeSign{}).sign,
			Issuer: "https://broker.test", Space: "root", Every: 5, Interval: time.Hour,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, m, tc.events) // written before this replica ran: no checkpoint
		if wrote, err := cp.Check(context.Background()); !wrote || err != nil {
			t.Fatalf("%d events: checkpoint written %v, %v", tc.events, wrote, err)
		}
		if got := strings.Contains(logs.String(), "holds no checkpoint"); got != tc.warn {
			t.Errorf("%d events without a checkpoint, every 5: warned %v, want %v:\n%s", tc.events, got, tc.warn, logs.String())
		}
	}
}

// TestStateKeepsItsCheckpointWhenNoneVerifies: A verification in which no checkpoint verifies
// (their key left the JWKS) keeps, in the state it returns, the checkpoint the earlier state held:
// the next verification still holds the trail to it. Guards against: nextState not carrying
// cfg.State.Checkpoint.
func TestStateKeepsItsCheckpointWhenNoneVerifies(t *testing.T) {
	r := newRollTrail(t)
	cp := r.replica(time.Minute, r.sign)
	r.add(cp, 3)
	r.clk.Advance(time.Minute)
	r.check(cp, true, "checkpoint")
	r.add(cp, 1)
	all, _, err := r.m.List(context.Background(), "root", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	first, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: r.jwks, Now: r.clk.Now()})
	if err != nil || first.State.Checkpoint == "" {
		t.Fatalf("first verification: state %+v, %v", first.State, err)
	}
	second, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: &jose.JSONWebKeySet{},
		State: &first.State, Now: r.clk.Now()})
	if err != nil || len(second.Unverifiable) != 1 {
		t.Fatalf("second verification, key gone: %+v, %v", second, err)
	}
	if second.State.Checkpoint != first.State.Checkpoint {
		t.Errorf("the state lost the checkpoint verified earlier: got %d bytes of JWS, want the earlier %d", len(second.State.Checkpoint), len(first.State.Checkpoint))
	}
}

// TestVerifyListedNowZeroIsTheListingsStart: VerifyListed with AnchorConfig.Now zero checks each
// listing as of when it begins (the CLI relies on it): a fresh, intact trail of events dated now
// verifies. Guards against: verifyListed not setting Now for a listing (also killed by cmd/broker
// TestAuditVerify* tests).
func TestVerifyListedNowZeroIsTheListingsStart(t *testing.T) {
	ctx := context.Background()
	r := newRollTrail(t)
	r.clk.now = time.Now().UTC()
	cp := r.replica(time.Minute, r.sign)
	r.add(cp, 3)
	r.check(cp, false, "nothing due yet")
	all, _, err := r.m.List(ctx, "root", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	list := func(add func([]audit.Event)) error { add(all); return nil }
	if rep, err := audit.VerifyListed(list, audit.AnchorConfig{Issuer: "https://broker.test", Keys: r.jwks}); err != nil || rep.Events != 3 {
		t.Errorf("VerifyListed with Now zero of 3 events of now: %+v, %v", rep, err)
	}
}

// TestStateCheckpointNeverMovesBack: The state keeps the latest checkpoint verified so far: a later
// verification in which only an older checkpoint verifies (the newer one's key left the JWKS first)
// does not move it back. Guards against: nextState replacing the state's checkpoint with one of a
// lower count.
func TestStateCheckpointNeverMovesBack(t *testing.T) {
	r := newRollTrail(t)
	other := newRollTrail(t) // only for its key: a second published key
	first := r.replica(time.Minute, r.sign)
	r.add(first, 3)
	r.clk.Advance(time.Minute)
	r.check(first, true, "checkpoint by the first key")
	second := r.replica(time.Minute, other.sign)
	r.add(second, 3)
	r.clk.Advance(time.Minute)
	r.check(second, true, "checkpoint by the second key")
	all, _, err := r.m.List(context.Background(), "root", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	both := &jose.JSONWebKeySet{Keys: append(append([]jose.JSONWebKey(nil), r.jwks.Keys...), other.jwks.Keys...)}
	v1, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: both, Now: r.clk.Now()})
	if err != nil || v1.Verified != 2 {
		t.Fatalf("with both keys: %+v, %v", v1, err)
	}
	v2, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: r.jwks, State: &v1.State, Now: r.clk.Now()})
	if err != nil || v2.Verified != 1 {
		t.Fatalf("with the first key only: %+v, %v", v2, err)
	}
	if v2.State.Checkpoint != v1.State.Checkpoint {
		t.Errorf("the state's checkpoint moved back to an older one")
	}
}
