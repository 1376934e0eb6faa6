package runstest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// Factory builds a fresh, empty store for one subtest. clock is the suite's fake clock; a
// store that cannot use it ignores it (and its caller sets Options.RealTime). The factory may
// register cleanup with t.Cleanup.
type Factory func(t *testing.T, clock *FakeClock) runs.Store

// Options tunes the suite for a store.
type Options struct {
	// RealTime says the store expires runs by the wall clock, not by the FakeClock. The suite
	// then stamps runs with time.Now(), and the expiry case waits (polling, a few seconds)
	// instead of advancing the fake clock.
	RealTime bool
}

// Suite timing.
const (
	// longTTL outlives any subtest.
	longTTL = time.Hour
	// shortTTL is the expiry case's TTL under Options.RealTime.
	shortTTL = 2 * time.Second
	// expiryWait bounds how long past shortTTL the suite waits for a real-time expiry.
	expiryWait = 5 * time.Second
	// expirySlack is how early a real-time store may drop a run (clock and rounding noise).
	expirySlack = 100 * time.Millisecond
	// contenders is the number of goroutines racing in the concurrency cases.
	contenders = 20
)

// TestStore runs the store contract suite against stores built by newStore, with a fake clock.
func TestStore(t *testing.T, newStore Factory) {
	t.Helper()
	TestStoreWith(t, newStore, Options{})
}

// TestStoreWith runs the store contract suite with opts.
func TestStoreWith(t *testing.T, newStore Factory, opts Options) {
	t.Helper()
	cases := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"CreateGetRoundTrip", testRoundTrip},
		{"GetByToken", testGetByToken},
		{"DuplicateID", testDuplicateID},
		{"TokenHeldByALiveRun", testTokenHeld},
		{"UpdateKeepsTheID", testUpdateKeepsID},
		{"Unknown", testUnknown},
		{"UpdatePersists", testUpdatePersists},
		{"UpdateErrorLeavesRunUnchanged", testUpdateError},
		{"FinishRevokesToken", testFinishRevokes},
		{"Expiry", testExpiry},
		{"ConcurrentTransitionOneWins", testConcurrentTransition},
		{"ConcurrentUpdatesNotLost", testConcurrentUpdates},
		{"Ping", testPing},
		{"Versions", testVersions},
		{"CancelledContextWritesNothing", testCancelledWrites},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := NewFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			if opts.RealTime {
				clock.Set(time.Now())
			}
			e := &env{
				ctx:   context.Background(),
				clock: clock,
				opts:  opts,
				store: newStore(t, clock),
			}
			c.run(t, e)
		})
	}
}

func testRoundTrip(t *testing.T, e *env) {
	for _, typ := range runs.Types() {
		want, _ := e.create(t, typ, longTTL)
		got, err := e.store.Get(e.ctx, want.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		assertSameRun(t, got, want)
	}
}

func testGetByToken(t *testing.T, e *env) {
	want, token := e.create(t, runs.Tracked, longTTL)
	other, otherToken := e.create(t, runs.Task, longTTL)
	got, err := e.store.GetByToken(e.ctx, runs.HashToken(token))
	if err != nil {
		t.Fatalf("GetByToken: %v", err)
	}
	assertSameRun(t, got, want)
	got, err = e.store.GetByToken(e.ctx, runs.HashToken(otherToken))
	if err != nil {
		t.Fatalf("GetByToken(other): %v", err)
	}
	assertSameRun(t, got, other)
}

func testDuplicateID(t *testing.T, e *env) {
	first, token := e.create(t, runs.Tracked, longTTL)
	dup, dupToken, err := runs.New(runs.NewRun{
		Space: "dev", Stack: "app-dev", Type: runs.Task, Now: e.now(), TTL: longTTL,
	})
	if err != nil {
		t.Fatalf("runs.New: %v", err)
	}
	dup.ID = first.ID
	if err := e.store.Create(e.ctx, dup, runs.HashToken(dupToken)); !errors.Is(err, runs.ErrExists) {
		t.Fatalf("Create(duplicate id) error = %v, want ErrExists", err)
	}
	got, err := e.store.Get(e.ctx, first.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertSameRun(t, got, first)
	if _, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); err != nil {
		t.Errorf("GetByToken(first token) after refused duplicate: %v", err)
	}
	if _, err := e.store.GetByToken(e.ctx, runs.HashToken(dupToken)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken(refused token) error = %v, want ErrNotFound", err)
	}
}

// testTokenHeld: a run token names one run only. A run created under the hash a live run's
// token has is refused with ErrExists, and the token keeps naming the first run (never another
// run, of another space, in a write phase).
func testTokenHeld(t *testing.T, e *env) {
	first, token := e.create(t, runs.Proposed, longTTL)
	second, _, err := runs.New(runs.NewRun{
		Space: "prod", Stack: "vpc-prod", Type: runs.Tracked, Phase: runs.Applying, Now: e.now(), TTL: longTTL,
	})
	if err != nil {
		t.Fatalf("runs.New: %v", err)
	}
	if err := e.store.Create(e.ctx, second, runs.HashToken(token)); !errors.Is(err, runs.ErrExists) {
		t.Errorf("Create under a token a live run holds: %v, want ErrExists", err)
	}
	got, err := e.store.GetByToken(e.ctx, runs.HashToken(token))
	if err != nil {
		t.Fatalf("GetByToken: %v", err)
	}
	assertSameRun(t, got, first)
}

// testUpdateKeepsID: Update cannot change a run's id, whatever fn returns: the run stays
// reachable under its id and its token, with the id it had.
func testUpdateKeepsID(t *testing.T, e *env) {
	run, token := e.create(t, runs.Tracked, longTTL)
	got, err := e.store.Update(e.ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		r.ID = "01OTHERRUNID0000000000000"
		return r, nil
	})
	if err != nil || got.ID != run.ID {
		t.Errorf("Update returned id %q, %v; want %s kept", got.ID, err, run.ID)
	}
	if stored, err := e.store.Get(e.ctx, run.ID); err != nil || stored.ID != run.ID {
		t.Errorf("Get after Update = id %q, %v; want %s kept", stored.ID, err, run.ID)
	}
	if byToken, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); err != nil || byToken.ID != run.ID {
		t.Errorf("GetByToken after Update = id %q, %v; want %s kept", byToken.ID, err, run.ID)
	}
}

func testUnknown(t *testing.T, e *env) {
	e.create(t, runs.Tracked, longTTL)
	const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	assertGone(t, e, id, "brk_run_unknown")
	called := false
	_, err := e.store.Update(e.ctx, id, func(r runs.Run) (runs.Run, error) {
		called = true
		return r, nil
	})
	if !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Update(unknown) error = %v, want ErrNotFound", err)
	}
	if called {
		t.Error("Update(unknown) called fn")
	}
}

func testUpdatePersists(t *testing.T, e *env) {
	run, token := e.create(t, runs.Tracked, longTTL)
	for _, p := range []runs.Phase{runs.Planning, runs.Applying} {
		got, err := e.store.Update(e.ctx, run.ID, moveTo(p))
		if err != nil {
			t.Fatalf("Update to %s: %v", p, err)
		}
		run.Phase, run.Scope = p, runs.ScopeOf(run.RunType, p)
		assertSameRun(t, got, run)
		stored, err := e.store.Get(e.ctx, run.ID)
		if err != nil {
			t.Fatalf("Get after update to %s: %v", p, err)
		}
		assertSameRun(t, stored, run)
		byToken, err := e.store.GetByToken(e.ctx, runs.HashToken(token))
		if err != nil {
			t.Fatalf("GetByToken after update to %s: %v", p, err)
		}
		assertSameRun(t, byToken, run)
	}
	if run.Scope != runs.Write {
		t.Errorf("APPLYING scope = %s, want write", run.Scope)
	}
}

func testUpdateError(t *testing.T, e *env) {
	run, _ := e.create(t, runs.Tracked, longTTL)
	if _, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Applying)); err != nil {
		t.Fatalf("Update to APPLYING: %v", err)
	}
	run.Phase, run.Scope = runs.Applying, runs.Write

	_, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Planning))
	if !errors.Is(err, runs.ErrTransition) {
		t.Errorf("backward Update error = %v, want ErrTransition", err)
	}
	sentinel := errors.New("caller's own failure")
	_, err = e.store.Update(e.ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		r.Phase = runs.Finished // must not be stored
		return r, sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Errorf("Update error = %v, want the fn's error", err)
	}
	got, err := e.store.Get(e.ctx, run.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertSameRun(t, got, run)
}

func testFinishRevokes(t *testing.T, e *env) {
	run, token := e.create(t, runs.Tracked, longTTL)
	other, otherToken := e.create(t, runs.Tracked, longTTL)
	if _, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("Update to FINISHED: %v", err)
	}
	if _, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken(finished run) error = %v, want ErrNotFound", err)
	}
	got, err := e.store.Get(e.ctx, run.ID)
	if err != nil {
		t.Fatalf("Get(finished run): %v", err)
	}
	run.Phase, run.Scope = runs.Finished, runs.Read
	assertSameRun(t, got, run)
	if _, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Applying)); !errors.Is(err, runs.ErrTransition) {
		t.Errorf("Update of finished run error = %v, want ErrTransition", err)
	}
	got, err = e.store.GetByToken(e.ctx, runs.HashToken(otherToken))
	if err != nil {
		t.Fatalf("GetByToken(other run): %v", err)
	}
	assertSameRun(t, got, other)
}

func testExpiry(t *testing.T, e *env) {
	ttl := longTTL
	if e.opts.RealTime {
		ttl = shortTTL
	}
	run, token := e.create(t, runs.Tracked, ttl)
	survivor, survivorToken := e.create(t, runs.Task, ttl+longTTL)
	if _, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); err != nil {
		t.Fatalf("GetByToken before expiry: %v", err)
	}

	if e.opts.RealTime {
		// The wait watches the token, never the id: a run's token must lapse at its expiry
		// even when nothing reads the run by id first.
		deadline := time.Now().Add(ttl + expiryWait)
		for {
			_, err := e.store.GetByToken(e.ctx, runs.HashToken(token))
			if errors.Is(err, runs.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatalf("GetByToken while waiting for expiry: %v", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("run still served %s after its expiry", expiryWait)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if early := time.Until(run.ExpiresAt); early > expirySlack {
			t.Errorf("run vanished %s before its ExpiresAt", early)
		}
	} else {
		e.clock.Set(run.ExpiresAt.Add(-time.Millisecond))
		if _, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); err != nil {
			t.Fatalf("GetByToken 1ms before expiry: %v", err)
		}
		if _, err := e.store.Get(e.ctx, run.ID); err != nil {
			t.Fatalf("Get 1ms before expiry: %v", err)
		}
		e.clock.Set(run.ExpiresAt) // a run is served strictly before its ExpiresAt
		// The token is looked up before the id: reading the run by id may drop it, which
		// would hide a token lookup that skips the expiry check.
		if got, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
			t.Errorf("GetByToken at expiry, before any read by id = %+v, %v; want ErrNotFound", got, err)
		}
	}
	assertGone(t, e, run.ID, token)
	if _, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Planning)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Update(expired) error = %v, want ErrNotFound", err)
	}
	got, err := e.store.GetByToken(e.ctx, runs.HashToken(survivorToken))
	if err != nil {
		t.Fatalf("GetByToken(unexpired run): %v", err)
	}
	assertSameRun(t, got, survivor)
}

func testConcurrentTransition(t *testing.T, e *env) {
	run, _ := e.create(t, runs.Tracked, longTTL)
	errs := make([]error, contenders)
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Go(func() {
			_, errs[i] = e.store.Update(e.ctx, run.ID, moveTo(runs.Planning))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, runs.ErrTransition):
			t.Errorf("contender %d: error = %v, want nil or ErrTransition", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d contenders moved the run to PLANNING, want exactly 1", won)
	}
	got, err := e.store.Get(e.ctx, run.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Phase != runs.Planning {
		t.Errorf("phase = %s, want PLANNING", got.Phase)
	}
}

func testConcurrentUpdates(t *testing.T, e *env) {
	run, _ := e.create(t, runs.Tracked, longTTL)
	var wg sync.WaitGroup
	for range contenders {
		wg.Go(func() {
			_, err := e.store.Update(e.ctx, run.ID, func(r runs.Run) (runs.Run, error) {
				r.Stack += "x"
				return r, nil
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := e.store.Get(e.ctx, run.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if want := run.Stack + strings.Repeat("x", contenders); got.Stack != want {
		t.Errorf("after %d appending updates stack = %q, want %q (an update was lost)",
			contenders, got.Stack, want)
	}
}

func testPing(t *testing.T, e *env) {
	if err := e.store.Ping(e.ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testVersions checks a runs.Versioned store: a read by token gives the same run as GetByToken
// and a Version naming it, the same until the run changes and another one after (a store that
// cannot check versions gives the zero Version throughout). A runs.Holder runs fn while the
// Version holds, and refuses with runs.ErrChanged, running nothing, once the run changed or
// finished. Other stores skip it.
func testVersions(t *testing.T, e *env) {
	vs, ok := e.store.(runs.Versioned)
	if !ok {
		t.Skip("the store gives no Version")
	}
	run, token := e.create(t, runs.Tracked, longTTL)
	hash := runs.HashToken(token)
	read := func() runs.Version {
		t.Helper()
		got, v, err := vs.GetByTokenVersion(e.ctx, hash)
		if err != nil {
			t.Fatalf("GetByTokenVersion: %v", err)
		}
		assertSameRun(t, got, run)
		if !v.IsZero() && (v.ID != run.ID || v.Token != hash) {
			t.Fatalf("Version %+v does not name run %s and its token", v, run.ID)
		}
		return v
	}
	first := read()
	if again := read(); again != first {
		t.Errorf("two reads of an unchanged run: %+v, then %+v", first, again)
	}
	holder, holds := e.store.(runs.Holder)
	ran := 0
	if holds {
		if err := holder.WhileUnchanged(first, func() error { ran++; return nil }); err != nil || ran != 1 {
			t.Errorf("WhileUnchanged on the run as read: %v, ran %d times", err, ran)
		}
		// What fn does under the Version (an audit append) fails the caller when it fails.
		failed := errors.New("append failed")
		if err := holder.WhileUnchanged(first, func() error { ran++; return failed }); !errors.Is(err, failed) || ran != 2 {
			t.Errorf("WhileUnchanged with fn failing: %v, ran %d times; want fn's error", err, ran)
		}
	}
	var err error
	if run, err = e.store.Update(e.ctx, run.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	moved := read()
	if !first.IsZero() && moved == first {
		t.Errorf("the Version did not change with the run: %+v", moved)
	}
	if holds {
		if err := holder.WhileUnchanged(first, func() error { ran++; return nil }); !errors.Is(err, runs.ErrChanged) || ran != 2 {
			t.Errorf("WhileUnchanged on a run changed since: %v, ran %d times; want ErrChanged and nothing run", err, ran)
		}
		if _, err := e.store.Update(e.ctx, run.ID, moveTo(runs.Finished)); err != nil {
			t.Fatalf("Update to FINISHED: %v", err)
		}
		if err := holder.WhileUnchanged(moved, func() error { ran++; return nil }); !errors.Is(err, runs.ErrChanged) || ran != 2 {
			t.Errorf("WhileUnchanged on a finished run: %v, ran %d times; want ErrChanged and nothing run", err, ran)
		}
	}
}

// testCancelledWrites checks that Create and Update on a cancelled context fail with the
// context's error and change nothing: a request its client abandoned neither starts nor moves a
// run.
func testCancelledWrites(t *testing.T, e *env) {
	existing, _ := e.create(t, runs.Tracked, longTTL)
	cancelled, cancel := context.WithCancel(e.ctx)
	cancel()
	fresh, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc-prod", Type: runs.Task, Now: e.now(), TTL: longTTL})
	if err != nil {
		t.Fatalf("runs.New: %v", err)
	}
	if err := e.store.Create(cancelled, fresh, runs.HashToken(token)); !errors.Is(err, context.Canceled) {
		t.Errorf("Create on a cancelled context = %v, want context.Canceled", err)
	}
	assertGone(t, e, fresh.ID, token)
	called := false
	_, err = e.store.Update(cancelled, existing.ID, func(r runs.Run) (runs.Run, error) {
		called = true
		return r.MoveTo(runs.Planning)
	})
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update on a cancelled context = %v (fn called: %v), want context.Canceled, fn not called", err, called)
	}
	got, err := e.store.Get(e.ctx, existing.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertSameRun(t, got, existing)
}
