package auditsink_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// switchedChain reads whichever memory chain it holds now: a store that failed over.
type switchedChain struct{ cur atomic.Pointer[audit.Memory] }

func (c *switchedChain) Range(ctx context.Context, from int64, limit int) ([]audit.Event, int64, error) {
	return c.cur.Load().Range(ctx, from, limit)
}

func (c *switchedChain) Head(ctx context.Context) (audit.Head, error) { return c.cur.Load().Head(ctx) }

// memoryChain is a memory chain of events with ids.
func memoryChain(t *testing.T, ids ...string) *audit.Memory {
	t.Helper()
	m := audit.NewMemory()
	for _, id := range ids {
		e := audit.Event{ID: id, Time: "2026-01-01T00:00:00Z", Action: "token.issue", Space: "prod", Outcome: audit.Success}
		if _, err := m.Append(context.Background(), e, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// numbered is prefix-0 .. prefix-(n-1).
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// TestRewindAfterTheChainWentBack: a sink receives, at least once, the events a store appended
// at the positions of events it lost after the sink had received them, whether the chain grew
// back past the sink's cursor, to it exactly, or not yet; the worker moves the cursor back to
// just past the newest event the chain still holds as the sink received it (not to the start),
// and warns and counts that once.
// Guards against: worker.go:step delivers from the saved cursor past events at positions the sink received before the chain went back
func TestRewindAfterTheChainWentBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fresh int // events appended after losing old-7 .. old-9
	}{{"grew past the cursor", 5}, {"grew back to the cursor", 3}, {"still shorter", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			old := numbered("old", 10)
			fresh := numbered("new", tc.fresh)
			chain := &switchedChain{}
			chain.cur.Store(memoryChain(t, old...))
			cursors := audit.NewMemoryCursors(nil)
			rec := &recorder{}
			var logs syncbuf.Buffer
			forwarder := func() *auditsink.Forwarder {
				f, err := auditsink.New(auditsink.Config{Chain: chain, Cursors: cursors, Poll: 5 * time.Millisecond,
					Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
					Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			stop := forwarder().Start(ctx)
			eventually(t, "the first ten events", func() bool { return len(rec.all()) == 10 })
			stop()

			chain.cur.Store(memoryChain(t, append(old[:7:7], fresh...)...))
			f := forwarder()
			stop = f.Start(ctx)
			defer stop()
			received := func(id string) int {
				n := 0
				for _, e := range rec.all() {
					if e.ID == id {
						n++
					}
				}
				return n
			}
			eventually(t, "the events appended after the loss", func() bool {
				for _, id := range fresh {
					if received(id) == 0 {
						return false
					}
				}
				return true
			})
			time.Sleep(50 * time.Millisecond) // more steps: no second rewind
			stop()
			if n := received("old-0"); n != 1 {
				t.Errorf("old-0 received %d times: the cursor went back further than the loss", n)
			}
			if st := f.Stats()[0]; st.Rewinds != 1 || st.Pending != 0 {
				t.Errorf("rewinds %d, pending %d; want 1 and 0", st.Rewinds, st.Pending)
			}
			if n := strings.Count(logs.String(), "level=WARN msg=\"audit sink: the audit chain went back below events this sink received"); n != 1 {
				t.Errorf("the rewind warned %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}
