package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/keys"
)

// rollClock is a clock several checkpointers share, safe for concurrent use.
type rollClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rollClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *rollClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestRollingIntervalChange: in a rolling change of audit.checkpoint.interval (1m to 10m), the old
// replica writes a checkpoint of its schedule after the new one started, then terminates. The new
// replica keeps to the stricter schedule the latest checkpoint signs, so `broker audit verify` of
// the untouched trail 3 minutes later finds it anchored.
func TestRollingIntervalChange(t *testing.T) {
	ctx := context.Background()
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: keys.ES256, Use: "sig"}}}
	sign := func(_ context.Context, p []byte) (string, error) {
		return issuer.SignCompact(k, audit.CheckpointType, p)
	}
	clk := &rollClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := audit.NewMemory()
	newCP := func(interval time.Duration) *audit.Checkpointer {
		cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: sign, Issuer: "https://broker.test",
			Space: "root", Every: 1000, Interval: interval, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	n := 0
	add := func(cp *audit.Checkpointer, count int) {
		for range count {
			n++
			e := audit.Event{ID: fmt.Sprint("ev", n), Time: clk.Now().UTC().Format(time.RFC3339Nano), Actor: "run:r",
				Action: "token.issue", Space: "prod", Outcome: audit.Success}
			if _, err := cp.Append(ctx, e, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	old := newCP(time.Minute)
	add(old, 3)
	clk.Advance(time.Minute)
	if wrote, err := old.Check(ctx); !wrote || err != nil {
		t.Fatalf("old replica's first checkpoint: %v %v", wrote, err)
	}
	add(old, 2)

	nu := newCP(10 * time.Minute) // the new replica starts

	// Old replica still serving for a minute: an event, and its due checkpoint (old schedule).
	add(old, 1)
	clk.Advance(time.Minute)
	if wrote, err := old.Check(ctx); !wrote || err != nil {
		t.Fatalf("old replica's checkpoint after the new one's start: %v %v", wrote, err)
	}
	// The old replica terminates. Only the new one runs, checking every quarter interval.
	add(nu, 1)
	for range 2 {
		clk.Advance(90 * time.Second)
		if _, err := nu.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var all []audit.Event
	cursor := ""
	for {
		page, next, err := m.List(ctx, "root", cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	_, err = audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: jwks, Now: clk.Now()})
	if errors.Is(err, audit.ErrUnanchored) {
		t.Errorf("untouched trail, 3m after the old replica left, with the new replica running: verify says %v", err)
	} else if err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// TestUpgradeFromScheduleLessCheckpoint: the latest checkpoint was written by an older version
// (its claim signs no every/interval), so verify holds the events after it to the defaults
// (1000, 1m). A replica of this version configured with interval 10m keeps to those defaults
// until its own checkpoint signs its schedule, so verify of the untouched trail 3 minutes later
// finds it anchored.
func TestUpgradeFromScheduleLessCheckpoint(t *testing.T) {
	ctx := context.Background()
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: keys.ES256, Use: "sig"}}}
	sign := func(_ context.Context, p []byte) (string, error) {
		return issuer.SignCompact(k, audit.CheckpointType, p)
	}
	// The older version signed no schedule.
	oldSign := func(ctx context.Context, p []byte) (string, error) {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			return "", err
		}
		delete(m, "every")
		delete(m, "interval")
		q, _ := json.Marshal(m)
		return sign(ctx, q)
	}
	clk := &rollClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := audit.NewMemory()
	n := 0
	add := func(cp *audit.Checkpointer, count int) {
		for range count {
			n++
			e := audit.Event{ID: fmt.Sprint("ev", n), Time: clk.Now().UTC().Format(time.RFC3339Nano), Actor: "run:r",
				Action: "token.issue", Space: "prod", Outcome: audit.Success}
			if _, err := cp.Append(ctx, e, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	old, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: oldSign, Issuer: "https://broker.test",
		Space: "root", Every: 1000, Interval: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	add(old, 3)
	clk.Advance(time.Minute)
	if wrote, err := old.Check(ctx); !wrote || err != nil {
		t.Fatalf("old version's checkpoint: %v %v", wrote, err)
	}
	// Upgrade: the new version's replica starts with interval 10m and checks as Run does (at
	// once, then every 15 s at most; 90 s steps here are coarser than that, never finer).
	nu, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: sign, Issuer: "https://broker.test",
		Space: "root", Every: 1000, Interval: 10 * time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); nu.Run(runCtx) }()
	time.Sleep(200 * time.Millisecond) // Run's check at its start (its ticker is at least 250ms)
	cancel()
	<-done
	add(nu, 1)
	for range 2 {
		clk.Advance(90 * time.Second)
		if _, err := nu.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	all, _, err := m.List(ctx, "root", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: jwks, Now: clk.Now()})
	if errors.Is(err, audit.ErrUnanchored) {
		t.Errorf("untouched trail, 3m after upgrading from a version whose checkpoints sign no schedule: verify says %v", err)
	} else if err != nil {
		t.Fatalf("verify: %v", err)
	}
}
