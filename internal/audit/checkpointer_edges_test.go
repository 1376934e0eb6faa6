package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestNewCheckpointerRefusesABadConfig: NewCheckpointer refuses a configuration it cannot run: no
// store or signer, no issuer or space, Every below 1 (every check would be due, a checkpoint over a
// checkpoint), an Interval not positive, a negative MaxAge. Guards against: each of the checks of
// NewCheckpointer dropped or loosened.
func TestNewCheckpointerRefusesABadConfig(t *testing.T) {
	sign := func(context.Context, []byte) (string, error) { return "a.b.c", nil }
	good := func() audit.CheckpointConfig {
		return audit.CheckpointConfig{Store: audit.NewMemory(), Sign: sign, Issuer: "https://broker.test", Space: "root",
			Every: 5, Interval: time.Minute, MaxAge: time.Hour}
	}
	if _, err := audit.NewCheckpointer(good()); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, bad := range map[string]func(*audit.CheckpointConfig){
		"no store":         func(c *audit.CheckpointConfig) { c.Store = nil },
		"no signer":        func(c *audit.CheckpointConfig) { c.Sign = nil },
		"no issuer":        func(c *audit.CheckpointConfig) { c.Issuer = "" },
		"no space":         func(c *audit.CheckpointConfig) { c.Space = "" },
		"every 0":          func(c *audit.CheckpointConfig) { c.Every = 0 },
		"every -1":         func(c *audit.CheckpointConfig) { c.Every = -1 },
		"interval 0":       func(c *audit.CheckpointConfig) { c.Interval = 0 },
		"interval -1s":     func(c *audit.CheckpointConfig) { c.Interval = -time.Second },
		"negative max age": func(c *audit.CheckpointConfig) { c.MaxAge = -time.Second },
	} {
		cfg := good()
		bad(&cfg)
		if cp, err := audit.NewCheckpointer(cfg); err == nil || cp != nil {
			t.Errorf("%s: NewCheckpointer returned a checkpointer %v, error %v; want an error", name, cp != nil, err)
		}
	}
	cfg := good()
	cfg.MaxAge = 0 // off
	if _, err := audit.NewCheckpointer(cfg); err != nil {
		t.Errorf("MaxAge 0 (off): %v", err)
	}
}

// runCheckpointer starts cp.Run and stops it when the test ends.
func runCheckpointer(t *testing.T, cp *audit.Checkpointer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cp.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitCheckpoints waits up to within for the store to hold n checkpoints (by the count of its
// checkpoint index), reporting whether it did.
func waitCheckpoints(m *audit.Memory, n int, within time.Duration) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if evs, _, _ := m.List(context.Background(), audit.CheckpointIndex, "", 100); len(evs) >= n {
			return true
		}
	}
	return false
}

// TestCheckpointRunWakesOnCheckedAppends: Checked appends count toward waking Run as plain appends
// do: Every checked appends bring a checkpoint without waiting for the timer (15s here). Guards
// against: AppendChecked not calling appended.
func TestCheckpointRunWakesOnCheckedAppends(t *testing.T) {
	m := audit.NewMemory()
	store := &checkingStore{Store: m, current: "d1"}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: store, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test",
		Space: "root", Every: 5, Interval: time.Minute, MaxAge: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	runCheckpointer(t, cp)
	time.Sleep(100 * time.Millisecond) // its first check, at once, finds nothing due
	for i := range 5 {
		e := audit.Event{ID: fmt.Sprint("c", i), Action: "token.issue", Space: "prod", Run: "r1"}
		if _, err := cp.AppendChecked(context.Background(), e, []string{"prod", "root"}, runs.Version{ID: "r1", Digest: "d1"}); err != nil {
			t.Fatal(err)
		}
	}
	if !waitCheckpoints(m, 1, 5*time.Second) {
		t.Fatal("no checkpoint 5s after 5 checked appends with every=5 (the timer is 15s)")
	}
}

// TestCheckpointRunWakesWithTwoReplicas: Two replicas appending in turn to one chain: each wakes
// its Run every quarter of Every of its own appends, so Every events in all, half from each, bring
// a checkpoint without waiting for the timer (15s here). Guards against: wakeAfter of Every instead
// of Every/4.
func TestCheckpointRunWakesWithTwoReplicas(t *testing.T) {
	m := audit.NewMemory()
	var cps []*audit.Checkpointer
	for range 2 {
		cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test",
			Space: "root", Every: 8, Interval: time.Minute, MaxAge: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		runCheckpointer(t, cp)
		cps = append(cps, cp)
	}
	time.Sleep(100 * time.Millisecond) // their first checks, at once, find nothing due
	for i := range 8 {
		appendN(t, cps[i%2], 1)
	}
	if !waitCheckpoints(m, 1, 5*time.Second) {
		t.Fatal("no checkpoint 5s after 8 appends, 4 by each of two replicas, with every=8 (the timer is 15s)")
	}
}

// headFailingStore is a Store whose Head fails.
type headFailingStore struct{ audit.Store }

func (headFailingStore) Head(context.Context) (audit.Head, error) {
	return audit.Head{}, errors.New("head failed")
}

// TestCheckReportsAFailingHead: A Head that fails is the check's error, not "nothing due". Guards
// against: Check ignoring Head's error.
func TestCheckReportsAFailingHead(t *testing.T) {
	cp := newTestCheckpointer(t, headFailingStore{audit.NewMemory()}, &fakeSign{}, 4)
	appendN(t, cp, 4)
	if wrote, err := cp.Check(context.Background()); wrote || err == nil {
		t.Errorf("Check over a failing Head = %v, %v; want its error", wrote, err)
	}
}

// TestUnreadableCheckpointTimeIsDue: The last checkpoint's event time does not parse (a store
// writer changed it): its age cannot be told, so an event after it is due at once, not an interval
// after this replica first saw it. Guards against: due() taking an unreadable checkpoint time as
// now.
func TestUnreadableCheckpointTimeIsDue(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test",
		Space: "root", Every: 5, Interval: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, cp, 5)
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Fatalf("first checkpoint: %v, %v", wrote, err)
	}
	all, _, _ := m.List(ctx, "root", "", 100)
	all[5].Time = "not a time"
	audit.MemoryTamperer{M: m}.Replace(t, all)
	appendN(t, cp, 1)
	clk.Advance(time.Second)
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Errorf("an event after a checkpoint whose time does not parse: written %v, %v; want a checkpoint at once", wrote, err)
	}
}

// TestScheduleLessCheckpointIsNotAlwaysDue: After a checkpoint of an older version (its claim signs
// no every/interval), a replica of this version holds to the defaults (1000 events, 1m) for what
// the claim lacks, not to a zero schedule: nothing is due with no event after it, nor for one event
// within the minute. Guards against: due() without the DefaultCheckpointEvery or
// DefaultCheckpointInterval fallback.
func TestScheduleLessCheckpointIsNotAlwaysDue(t *testing.T) {
	r := newRollTrail(t)
	old := r.replica(time.Minute, r.signScheduleLess)
	r.add(old, 3)
	r.clk.Advance(time.Minute)
	r.check(old, true, "the old version's checkpoint")
	nu := r.replica(10*time.Minute, r.sign)
	if wrote, err := nu.Check(context.Background()); wrote || err != nil {
		t.Fatalf("no event after the schedule-less checkpoint: written %v, %v; want nothing due", wrote, err)
	}
	r.add(nu, 1)
	r.clk.Advance(10 * time.Second)
	if wrote, err := nu.Check(context.Background()); wrote || err != nil {
		t.Fatalf("one event 10s after the schedule-less checkpoint: written %v, %v; want nothing due before a minute", wrote, err)
	}
}

// TestSubSecondIntervalSignsOneSecond: A sub-second Interval signs an interval of 1 second, never 0
// (which a verifier would take for a checkpoint of an older version that signs no schedule). Guards
// against: intervalSeconds without its minimum of 1.
func TestSubSecondIntervalSignsOneSecond(t *testing.T) {
	m := audit.NewMemory()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test",
		Space: "root", Every: 5, Interval: 500 * time.Millisecond, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, cp, 5)
	if wrote, err := cp.Check(context.Background()); !wrote || err != nil {
		t.Fatalf("checkpoint: %v, %v", wrote, err)
	}
	h, _ := m.Head(context.Background())
	if c := claimOf(t, *h.Checkpoint); c.Interval != 1 || c.Every != 5 {
		t.Errorf("claim signs every %d, interval %d; want 5 and 1", c.Every, c.Interval)
	}
}

// TestRunLogsAFailedCheckpoint: A checkpoint that cannot be written (here, the signer fails) is
// logged as a warning with its cause, so an operator learns the trail goes unanchored. Guards
// against: Run's default case not logging.
func TestRunLogsAFailedCheckpoint(t *testing.T) {
	var logs syncbuf.Buffer
	m := audit.NewMemory()
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: (&fakeSign{err: errors.New("hsm down")}).sign,
		Issuer: "https://broker.test", Space: "root", Every: 4, Interval: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, cp, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); cp.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "hsm down") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "could not write a checkpoint") || !strings.Contains(out, "hsm down") {
		t.Errorf("a failed checkpoint was not logged with its cause:\n%s", out)
	}
}
