package auditsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// saveTimeout bounds saving the cursor after a delivery, which a stop does not interrupt.
const saveTimeout = 5 * time.Second

// minBackoff is the first wait after a failed delivery (less when MaxBackoff is smaller).
const minBackoff = 100 * time.Millisecond

// worker delivers the chain to one sink.
type worker struct {
	Target
	chain    Chain
	cursors  audit.Cursors
	holder   string
	poll     time.Duration
	leaseTTL time.Duration
	log      *slog.Logger
	wake     chan struct{}
	// drain is closed by Forwarder.Drain; the worker closes drained once, after it, it finds
	// nothing more to deliver (or cannot deliver it).
	drain, drained chan struct{}

	pending, held, maxHeld atomic.Int64
	// rewinds counts the cursor's moves back to events of a chain that went back.
	rewinds atomic.Int64
	// seen is the longest chain a step read.
	seen int64
	// leader: the last claim found this replica holding the sink's lease.
	leader atomic.Bool
	// batch is the most events the next delivery carries: MaxBatch, fewer while the receiver
	// refuses deliveries as too large (halved at each refusal, doubled back at each success).
	batch int
}

// run steps until ctx ends: at once after a delivery, after a backoff after a failure, and
// on a wake or the poll timer when there is nothing to do. Once drain is closed, the first
// step begun after it that delivers nothing (caught up, another replica's lease, or a failure)
// closes drained.
func (w *worker) run(ctx context.Context) {
	defer w.release()
	failures := 0
	drain := w.drain
	for ctx.Err() == nil {
		// Only a step that began once drain was closed may end the drain: one that began
		// before may have read the chain's head before the last events were appended.
		draining := closed(drain)
		busy, err := w.step(ctx)
		if !busy && draining {
			if err != nil {
				w.log.Warn("audit sink: could not deliver the rest of the chain before stopping; delivery resumes from its cursor", "err", err)
			}
			close(w.drained)
			drain = nil // drained: wait as usual from now on
		}
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait := backoff(failures, w.MaxBackoff)
			w.log.Warn("audit sink: delivery failed; retrying from its cursor", "attempt", failures, "retry_in", wait.String(), "err", err)
			sleep(ctx, wait, nil, drain)
		case busy:
			failures = 0
		default:
			failures = 0
			sleep(ctx, w.poll, w.wake, drain)
		}
	}
}

// closed reports whether ch is closed; a nil ch is not.
func closed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// step renews the lease and, holding it, moves the cursor back when the chain went back below
// what the sink received (see wentBack), or else delivers the next batch past the cursor. It
// reports whether it delivered anything or moved the cursor back.
func (w *worker) step(ctx context.Context) (bool, error) {
	holds, err := w.cursors.Claim(ctx, w.Name, w.holder, w.leaseTTL)
	if err != nil {
		w.leader.Store(false)
		return false, fmt.Errorf("claim lease: %w", err)
	}
	w.leader.Store(holds)
	cur, err := w.cursors.Cursor(ctx, w.Name)
	if err != nil {
		return false, fmt.Errorf("read cursor: %w", err)
	}
	pos := cur.Pos
	head, err := w.chain.Head(ctx)
	if err != nil {
		return false, fmt.Errorf("read chain head: %w", err)
	}
	w.pending.Store(max(0, head.Count-pos))
	if head.Count < w.seen {
		w.log.Error("audit sink: the audit chain went back: the store holds fewer events than it did (it lost some: wiped, "+
			"or failed over to a replica that had not received them); the events past its end are lost, and new events take their positions",
			"events", head.Count, "was", w.seen)
	}
	w.seen = head.Count
	if !holds {
		return false, nil
	}
	if w.batch <= 0 {
		w.batch = w.MaxBatch
	}
	events, first := []audit.Event{}, pos
	if head.Count > pos {
		if events, first, err = w.chain.Range(ctx, pos, int(min(int64(w.batch), head.Count-pos))); err != nil {
			return false, fmt.Errorf("read chain: %w", err)
		}
	}
	if wentBack(cur, head, events, first) {
		return w.rewind(ctx, cur, head)
	}
	if len(events) == 0 {
		return false, nil
	}
	w.hold(int64(len(events)))
	defer w.hold(0)
	if first > pos {
		w.log.Error("audit sink: events were dropped from the in-memory chain before this sink received them",
			"lost", first-pos, "from", pos)
		// They cannot arrive any more: the cursor moves past them, so that a loss is reported
		// once, and pending counts only what can still be delivered.
		ok, err := w.advance(ctx, audit.SinkCursor{Pos: first})
		if err != nil {
			return false, fmt.Errorf("save cursor past the lost events: %w", err)
		}
		if !ok {
			return false, nil
		}
		w.pending.Store(max(0, head.Count-first))
	}
	dctx, cancel := context.WithTimeout(ctx, w.Timeout)
	err = w.Sink.Deliver(dctx, events)
	cancel()
	if errors.Is(err, ErrTooLarge) && len(events) > 1 {
		w.batch = len(events) / 2 // the same events again, fewer to a body
	}
	if err != nil {
		return false, err
	}
	next := first + int64(len(events))
	// The batch is delivered: save the cursor, with marks identifying what the sink received,
	// even if the worker is being stopped, so that a restart does not deliver it again.
	ok, err := w.advance(ctx, audit.SinkCursor{Pos: next, Marks: nextMarks(cur.Marks, first, events)})
	if err != nil {
		return false, fmt.Errorf("save cursor (the batch will be delivered again): %w", err)
	}
	if !ok {
		w.log.Info("audit sink: lease lost to another replica; it delivers from the saved cursor")
		return false, nil
	}
	w.pending.Store(max(0, head.Count-next))
	w.batch = min(w.MaxBatch, 2*w.batch)
	return true, nil
}

// advance saves the sink's cursor at to, within saveTimeout even if ctx is done. It reports
// false, and the worker no longer leads, when another replica holds the lease now.
func (w *worker) advance(ctx context.Context, to audit.SinkCursor) (bool, error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	ok, err := w.cursors.Advance(sctx, w.Name, w.holder, to)
	if err == nil && !ok {
		w.leader.Store(false)
	}
	return ok, err
}

// hold records that the worker holds n events now.
func (w *worker) hold(n int64) {
	w.held.Store(n)
	for {
		m := w.maxHeld.Load()
		if n <= m || w.maxHeld.CompareAndSwap(m, n) {
			return
		}
	}
}

// release gives up the lease, so another replica can take over at once.
func (w *worker) release() {
	w.leader.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := w.cursors.Release(ctx, w.Name, w.holder); err != nil {
		w.log.Warn("audit sink: could not release the lease; it expires on its own", "err", err)
	}
}

// backoff is the wait after the n-th failure in a row: doubling from minBackoff up to limit,
// with the upper half jittered so that replicas and sinks do not retry in step.
func backoff(n int, limit time.Duration) time.Duration {
	d := min(minBackoff, limit)
	for i := 1; i < n && d < limit; i++ {
		if d > limit/2 {
			d = limit // doubling would pass limit, and wrap near the largest duration
		} else {
			d *= 2
		}
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d, ctx's end, a signal on wake or drain's close (nil: none).
func sleep(ctx context.Context, d time.Duration, wake, drain <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	case <-drain:
	}
}
