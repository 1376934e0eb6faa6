package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// part is what one caller adds to a shared round trip: a run lookup, or a batch of audit
// events.
type part interface {
	// add queues the part's commands on p.
	add(ctx context.Context, p redis.Pipeliner)
	// settle reads the replies of the commands add queued, once the round trip is back. It
	// returns true when the part must go again in the next round trip (a script Redis no
	// longer had, an audit batch that lost its compare-and-swap to another replica).
	settle() (again bool)
}

// roundTrips sends the token path's commands in shared round trips to Redis. While one round
// trip is on its way, the parts that arrive meanwhile queue up and go together as the next
// one, in one pipeline: a run lookup and the audit events of tokens just signed cost Redis one
// read and one write between them, not one each. A caller that finds no round trip on its way
// makes it itself, so a lone request pays no hand-off to another goroutine; what queued
// meanwhile goes on in a goroutine, one round trip at a time, until the queue is empty. While a
// core is spare, a round trip polls for its reply rather than sleep (replyPoll).
type roundTrips struct {
	c *Client

	mu    sync.Mutex
	queue []part
	busy  bool
}

// do queues p for the next round trip. If none is on its way, the caller makes it at once,
// with p and whatever else is queued, before do returns; otherwise the goroutine on duty
// takes p with the next one. The part tells its own waiters when it is settled.
func (r *roundTrips) do(p part) {
	r.mu.Lock()
	r.queue = append(r.queue, p)
	if r.busy {
		r.mu.Unlock()
		return
	}
	r.busy = true
	r.mu.Unlock()
	if r.once() {
		go r.drain()
	}
}

// drain makes round trips until the queue is empty.
func (r *roundTrips) drain() {
	for r.once() {
	}
}

// once makes one round trip of everything queued, settles it, and reports whether more is
// queued (the caller then makes the next one); if not, it leaves duty.
func (r *roundTrips) once() (more bool) {
	r.mu.Lock()
	parts := r.queue
	r.queue = nil
	r.mu.Unlock()

	ctx, cancel := r.c.bound(context.Background())
	r.c.poll.want.Store(true)
	// Errors are read off each part's own commands; Pipelined's error is only the first.
	_, _ = r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, pt := range parts {
			pt.add(ctx, p)
		}
		return nil
	})
	r.c.poll.want.Store(false)
	cancel()
	var again []part
	for _, pt := range parts {
		if pt.settle() {
			again = append(again, pt)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(again, r.queue...)
	if len(r.queue) == 0 {
		r.busy = false
		return false
	}
	return true
}

// noScript reports whether err is Redis's answer to an EVALSHA of a script it does not hold
// (after a restart, a failover or SCRIPT FLUSH): the part goes again with EVAL.
func noScript(err error) bool { return redis.HasErrorPrefix(err, "NOSCRIPT") }

// scriptCall is one script to run in a round trip, with its keys and arguments.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	// bySource sends the script's source (EVAL) rather than its digest (EVALSHA): set when
	// Redis answered that it does not hold the script.
	bySource bool
}

// queue adds the call to p.
func (s *scriptCall) queue(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	if s.bySource {
		return s.script.Eval(ctx, p, s.keys, s.args...)
	}
	return s.script.EvalSha(ctx, p, s.keys, s.args...)
}
