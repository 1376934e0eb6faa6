package auditsink_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestMarksReachBackWithOneEventBatches: a sink fed one event per batch (a quiet broker: each
// event is delivered as it is appended) keeps marks at about doubling distances back, so a loss
// of 10 events rewinds the cursor to near the loss, not to 0 (the whole trail again).
// Guards against: rewind.go:nextMarks keeping the newest mark of each distance class, which
// never grows older than a batch
func TestMarksReachBackWithOneEventBatches(t *testing.T) {
	ctx := context.Background()
	old := numbered("old", 40)
	chain := &switchedChain{}
	live := audit.NewMemory()
	chain.cur.Store(live)
	cursors := audit.NewMemoryCursors(nil)
	rec := &recorder{}
	var logs syncbuf.Buffer
	forwarder := func() *auditsink.Forwarder {
		f, err := auditsink.New(auditsink.Config{Chain: chain, Cursors: cursors, Poll: 2 * time.Millisecond,
			Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
			Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := forwarder()
	stop := f.Start(ctx)
	for i, id := range old {
		e := audit.Event{ID: id, Time: "2026-01-01T00:00:00Z", Action: "token.issue", Space: "prod", Outcome: audit.Success}
		if _, err := live.Append(ctx, e, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
		f.Notify()
		eventually(t, "event "+id, func() bool { return len(rec.all()) == i+1 })
	}
	stop()
	before := len(rec.all())

	// The store loses the last 10 events (30..39) and appends 2 new ones at 30, 31.
	fresh := numbered("new", 2)
	chain.cur.Store(memoryChain(t, append(old[:30:30], fresh...)...))
	f = forwarder()
	stop = f.Start(ctx)
	defer stop()
	eventually(t, "the fresh events", func() bool {
		n := 0
		for _, e := range rec.all() {
			if strings.HasPrefix(e.ID, "new-") {
				n++
			}
		}
		return n == 2
	})
	stop()
	again := len(rec.all()) - before - len(fresh)
	// Doubling marks from position 39 (38, 37, 35, 31, 23, ...) rewind to at most ~24: 30-23 = 7 old events again.
	if again > 15 {
		t.Errorf("after losing 10 events the sink received %d old events again (old-0 again: %v): the cursor went back to %d, not near the loss",
			again, countID(rec.all(), "old-0") > 1, 30-again)
	}
}

func countID(events []audit.Event, id string) int {
	n := 0
	for _, e := range events {
		if e.ID == id {
			n++
		}
	}
	return n
}
