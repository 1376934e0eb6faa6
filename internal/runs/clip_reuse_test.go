package runs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

// TestCorruptNameClipBoundary checks that an inconsistent record's error repeats a stored
// name of exactly 40 bytes whole, cuts one of 41 bytes to 40 followed by "...", and quotes a
// name holding the DEL control character.
// Guards against: clip's bound `len(name) > maxShown` -> `len(name) > maxShown+1`
// Guards against: clip's odd-character test `c > '~'` -> `c > 0x7f` (DEL no longer quoted)
func TestCorruptNameClipBoundary(t *testing.T) {
	forty := strings.Repeat("s", 40)
	for _, tc := range []struct {
		name  string
		scope string
		want  string // must appear in the message
		bad   string // must not appear in the message
	}{
		{"40 bytes kept whole", forty, forty + " ", forty + "..."},
		{"41 bytes cut", forty + "t", forty + "...", forty + "t"},
		{"DEL quoted", "wr\x7fite", `"wr\x7fite"`, "wr\x7fite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runs.Run{ID: "01RUN", RunType: runs.Proposed, Phase: runs.Planning,
				Scope: runs.Scope(tc.scope)}
			_, err := r.EffectiveScope()
			if err == nil {
				t.Fatal("EffectiveScope accepted an inconsistent record")
			}
			msg := err.Error() + " "
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.bad) {
				t.Errorf("message %q: want it to hold %q and not %q", msg, tc.want, tc.bad)
			}
		})
	}
}

// TestExpiredRunFreesItsID checks that a run past its expiry no longer holds its id: a
// new run created under the same id succeeds and is the one served, while a live run's id
// stays taken (ErrExists).
// Guards against: Create's taken-id check `m.live(run.ID, now)` -> `m.byID[run.ID]` (an expired
// run still taken)
func TestExpiredRunFreesItsID(t *testing.T) {
	ctx := context.Background()
	clock := runstest.NewFakeClock(time.Unix(1000, 0))
	m := runs.NewMemory(clock.Now)
	old := runs.Run{ID: "01RUN", Space: "sp", Stack: "st", RunType: runs.Tracked,
		Phase: runs.Planning, Scope: runs.Read, ExpiresAt: clock.Now().Add(time.Minute)}
	if err := m.Create(ctx, old, runs.HashToken("brk_run_old")); err != nil {
		t.Fatal(err)
	}
	again := old
	again.Stack = "other"
	if err := m.Create(ctx, again, runs.HashToken("brk_run_x")); !errors.Is(err, runs.ErrExists) {
		t.Fatalf("create over a live run's id: %v, want ErrExists", err)
	}
	clock.Advance(time.Minute)
	again.ExpiresAt = clock.Now().Add(time.Minute)
	if err := m.Create(ctx, again, runs.HashToken("brk_run_new")); err != nil {
		t.Fatalf("create over an expired run's id: %v, want success", err)
	}
	got, err := m.Get(ctx, "01RUN")
	if err != nil || got.Stack != "other" {
		t.Errorf("Get after reuse: %+v, %v; want the new run", got, err)
	}
}
