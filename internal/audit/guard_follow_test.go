package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/keys"
)

// checkpointSigner is one ES256 signing key, the JWKS that publishes it, and a switch that makes
// signing fail (a signer that is down).
type checkpointSigner struct {
	key  keys.Key
	jwks *jose.JSONWebKeySet
	down atomic.Bool
}

// newCheckpointSigner makes a checkpointSigner with a new ES256 key, up.
func newCheckpointSigner(t *testing.T) *checkpointSigner {
	t.Helper()
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &checkpointSigner{key: k, jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: keys.ES256, Use: "sig"}}}}
}

// sign signs payload as a checkpoint with s's key, or fails while s is down.
func (s *checkpointSigner) sign(_ context.Context, payload []byte) (string, error) {
	if s.down.Load() {
		return "", errors.New("signer down")
	}
	return issuer.SignCompact(s.key, audit.CheckpointType, payload)
}

// published is the JWKS that publishes s's key.
func (s *checkpointSigner) published() *jose.JSONWebKeySet { return s.jwks }

// replica is a Checkpointer of st signing with s every five events, on a clock that stands
// still, trusting the checkpoints that keys verify (none when keys is nil).
func (s *checkpointSigner) replica(t *testing.T, st audit.Store, keys audit.PublishedKeys) *audit.Checkpointer {
	t.Helper()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: st, Sign: s.sign, Issuer: "https://broker.test", Space: "root",
		Every: 5, Interval: time.Hour, Now: clk.Now, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// signingReplica is s's replica of st (a store others may write, so it checks the chain),
// trusting the checkpoints s's JWKS verifies.
func signingReplica(t *testing.T, st audit.Store, s *checkpointSigner) *audit.Checkpointer {
	t.Helper()
	return s.replica(t, st, s.published)
}

// appendDated appends n events dated when the clocks of s's replicas stand (see replica), so
// that a replica starting after a checkpoint finds them within the schedule, as a verifier would.
func appendDated(t *testing.T, st audit.Store, n int) {
	t.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	for i := 0; i < n; i++ {
		e := audit.Event{ID: fmt.Sprint(i), Time: at, Action: "token.issue", Space: "prod"}
		if _, err := st.Append(context.Background(), e, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPeerCheckpointBehindWhatWasCheckedIsNoRefusal pins that a replica does not refuse when the
// latest checkpoint in the store, a peer's that verifies, covers fewer events than this replica
// already checked: its own checkpoint failed to sign after it checked the chain up to 12 events,
// and a peer that read the head one event earlier anchored 11. The chain is intact, so the replica
// goes on (and signs later) rather than stop anchoring until restart.
// Guards against: guard.go:follow `claim.Count > c.trusted.count` -> `!=` (extends called
// backwards)
func TestPeerCheckpointBehindWhatWasCheckedIsNoRefusal(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	s := newCheckpointSigner(t)
	a := signingReplica(t, sharedMemory{m}, s)
	appendDated(t, a, 5)
	if wrote, err := a.Check(ctx); !wrote || err != nil {
		t.Fatalf("first checkpoint: %v, %v", wrote, err)
	}
	appendDated(t, a, 5)
	stale, err := m.Head(ctx) // 11 events: what the peer reads
	if err != nil {
		t.Fatal(err)
	}
	appendDated(t, a, 1)
	s.down.Store(true)
	if wrote, err := a.Check(ctx); wrote || err == nil || errors.Is(err, audit.ErrNotExtended) {
		t.Fatalf("check with the signer down: %v, %v; want a signing error", wrote, err)
	}
	s.down.Store(false)
	b := signingReplica(t, &flakyStore{Store: sharedMemory{m}, head: func(audit.Head) audit.Head { return stale }}, s)
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Fatalf("peer's checkpoint over 11 events: %v, %v", wrote, err)
	}
	if _, err := a.Check(ctx); err != nil {
		t.Fatalf("after the peer's checkpoint over fewer events than it checked: %v; want no refusal", err)
	}
	appendN(t, a, 5)
	if wrote, err := a.Check(ctx); !wrote || err != nil {
		t.Errorf("next checkpoint: %v, %v; want it signed", wrote, err)
	}
}

// TestSignedCheckpointWithoutTailRefusedAtOnce pins that a checkpoint that verifies but
// claims a count of events with no tail hash (no chain of events ends in "") is refused at the
// first check, as events it covers are missing, even when no checkpoint is due.
// Guards against: guard.go:latestClaim drop `claim.Count > 0 && claim.Tail == ""`
func TestSignedCheckpointWithoutTailRefusedAtOnce(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	s := newCheckpointSigner(t)
	appendN(t, m, 3)
	jws, err := s.sign(ctx, []byte(`{"iss":"https://broker.test","count":3,"tail":"","time":"2026-01-01T00:00:00Z","every":5,"interval":3600}`))
	if err != nil {
		t.Fatal(err)
	}
	e := audit.Event{ID: "cp", Time: "2026-01-01T00:00:00Z", Actor: audit.CheckpointActor, Action: audit.CheckpointAction,
		Space: "root", Outcome: audit.Success, Detail: jws}
	if _, wrote, err := m.AppendCheckpoint(ctx, e, []string{"root"}, -1); !wrote || err != nil {
		t.Fatal(wrote, err)
	}
	a := signingReplica(t, sharedMemory{m}, s)
	if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
		t.Errorf("a signed checkpoint of 3 events ending in no hash: %v, %v; want ErrNotExtended", wrote, err)
	}
}
