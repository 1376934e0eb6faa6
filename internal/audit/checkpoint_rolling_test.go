package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/keys"
)

// rollTrail is a memory chain that checkpointers of several schedules share, as replicas of a
// rolling change or an upgrade do, on one clock, signing with one published key.
type rollTrail struct {
	t     *testing.T
	m     *audit.Memory
	clk   *clock
	jwks  *jose.JSONWebKeySet
	sign  audit.SignFunc
	added int
}

func newRollTrail(t *testing.T) *rollTrail {
	t.Helper()
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &rollTrail{
		t: t, m: audit.NewMemory(), clk: &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: keys.ES256, Use: "sig"}}},
		sign: func(_ context.Context, p []byte) (string, error) {
			return issuer.SignCompact(k, audit.CheckpointType, p)
		},
	}
}

// replica is a checkpointer of the trail with interval (every 1000), signing through sign.
func (r *rollTrail) replica(interval time.Duration, sign audit.SignFunc) *audit.Checkpointer {
	r.t.Helper()
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: r.m, Sign: sign, Issuer: "https://broker.test",
		Space: "root", Every: 1000, Interval: interval, Now: r.clk.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	return cp
}

// add appends n events through cp.
func (r *rollTrail) add(cp *audit.Checkpointer, n int) {
	r.t.Helper()
	for range n {
		r.added++
		e := audit.Event{ID: fmt.Sprint("ev", r.added), Time: r.clk.Now().UTC().Format(time.RFC3339Nano), Actor: "run:r",
			Action: "token.issue", Space: "prod", Outcome: audit.Success}
		if _, err := cp.Append(context.Background(), e, []string{"prod", "root"}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// check makes cp check, and fails the test unless it wrote a checkpoint when want says so.
func (r *rollTrail) check(cp *audit.Checkpointer, want bool, what string) {
	r.t.Helper()
	if wrote, err := cp.Check(context.Background()); err != nil || want && !wrote {
		r.t.Fatalf("%s: checkpoint written %v, %v", what, wrote, err)
	}
}

// anchored fails the test when verify, now, finds the untouched trail not anchored.
func (r *rollTrail) anchored(what string) {
	r.t.Helper()
	all, _, err := r.m.List(context.Background(), "root", "", 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	_, err = audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: r.jwks, Now: r.clk.Now()})
	if errors.Is(err, audit.ErrUnanchored) {
		r.t.Errorf("untouched trail, %s: verify says %v", what, err)
	} else if err != nil {
		r.t.Fatalf("verify: %v", err)
	}
}

// TestRollingIntervalChange: in a rolling change of audit.checkpoint.interval (1m to 10m), the old
// replica writes a checkpoint of its schedule after the new one started, then terminates. The new
// replica keeps to the stricter schedule the latest checkpoint signs, so `broker audit verify` of
// the untouched trail 3 minutes later finds it anchored.
func TestRollingIntervalChange(t *testing.T) {
	r := newRollTrail(t)
	old := r.replica(time.Minute, r.sign)
	r.add(old, 3)
	r.clk.Advance(time.Minute)
	r.check(old, true, "the old replica's first checkpoint")
	r.add(old, 2)
	nu := r.replica(10*time.Minute, r.sign) // the new replica starts
	r.add(old, 1)
	r.clk.Advance(time.Minute)
	r.check(old, true, "the old replica's checkpoint after the new one's start")
	// The old replica terminates; the new one checks as Run does (90 s steps, coarser than it).
	r.add(nu, 1)
	for range 2 {
		r.clk.Advance(90 * time.Second)
		r.check(nu, false, "the new replica")
	}
	r.anchored("3m after the old replica left, with the new replica running")
}

// TestUpgradeFromScheduleLessCheckpoint: the latest checkpoint was written by an older version
// (its claim signs no every/interval), so verify holds the events after it to the defaults
// (1000, 1m). A replica of this version configured with interval 10m keeps to those defaults
// until its own checkpoint signs its schedule, so verify of the untouched trail 3 minutes later
// finds it anchored.
func TestUpgradeFromScheduleLessCheckpoint(t *testing.T) {
	r := newRollTrail(t)
	old := r.replica(time.Minute, r.signScheduleLess)
	r.add(old, 3)
	r.clk.Advance(time.Minute)
	r.check(old, true, "the old version's checkpoint")
	nu := r.replica(10*time.Minute, r.sign) // the upgrade
	r.add(nu, 1)
	for range 2 {
		r.clk.Advance(90 * time.Second)
		r.check(nu, false, "the new version's replica")
	}
	r.anchored("3m after upgrading from a version whose checkpoints sign no schedule")
}

// signScheduleLess signs as a release before checkpoints signed their schedule did: the claim
// without every and interval.
func (r *rollTrail) signScheduleLess(ctx context.Context, p []byte) (string, error) {
	var claim map[string]any
	if err := json.Unmarshal(p, &claim); err != nil {
		return "", err
	}
	delete(claim, "every")
	delete(claim, "interval")
	q, err := json.Marshal(claim)
	if err != nil {
		return "", err
	}
	return r.sign(ctx, q)
}
