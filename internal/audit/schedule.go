package audit

import (
	"fmt"
	"time"
)

// settledAt is when events listed at now must precede to count against the schedule as old
// (see cadence.check): anchorSlack before now.
func settledAt(now time.Time) time.Time { return now.Add(-anchorSlack) }

// cadence is what the checkpoint schedule holds the events from position from on to: the latest
// verified checkpoint's schedule (anchor's), else cfg's.
type cadence struct {
	from     int64
	every    int64
	interval time.Duration
	// oldest is when an unanchored event must not precede, and newest when it must not follow
	// (see aheadAllowance): an event dated further ahead counts as undated, or a store writer
	// could date a rewrite out of the schedule's reach.
	oldest, newest time.Time
	// unanchored counts the events from from on that are not checkpoints; old those of them
	// before settled or undated.
	unanchored, old int64
	// first is the first of them before oldest or undated.
	first *overdue
}

// overdue is an unanchored event older than the schedule allows.
type overdue struct {
	id, time string
	at       int64
}

// aheadAllowance is how far past the schedule's bound ahead of the listing's start an
// unanchored event may be dated and still count as dated: replicas' clocks may run ahead of the
// verifier's, and a long listing reaches events appended after it began.
const aheadAllowance = time.Hour

// newCadence is the schedule of the events from position from on, anchored by anchor (nil
// when no checkpoint verifies), before any of them is added.
func newCadence(from int64, anchor *Anchor, cfg AnchorConfig) cadence {
	every, interval := cfg.Every, cfg.Interval
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	if interval <= 0 {
		interval = DefaultCheckpointInterval
	}
	if anchor != nil && anchor.Claim.Every > 0 && anchor.Claim.Interval > 0 {
		every, interval = anchor.Claim.Every, time.Duration(anchor.Claim.Interval)*time.Second
	}
	allowed := interval + interval/4 + anchorSlack
	return cadence{from: from, every: every, interval: interval, oldest: cfg.Now.Add(-allowed), newest: cfg.Now.Add(allowed + aheadAllowance)}
}

// add counts the event s at position at.
func (c *cadence) add(s *seen, at int64, settled time.Time) {
	if s.checkpoint {
		return
	}
	c.unanchored++
	dated := s.dated && !s.at.After(c.newest)
	if !dated || s.at.Before(settled) {
		c.old++
	}
	if c.first == nil && (!dated || s.at.Before(c.oldest)) {
		c.first = &overdue{id: s.id, time: s.time, at: at}
	}
}

// check holds the events counted to the schedule: at most twice every of them older than
// anchorSlack, and none older than interval and a quarter, plus anchorSlack. A running replica
// anchors overdue events within a quarter interval, and at once when it starts (also when its
// schedule changed), so older unanchored events mean checkpoints that were there are gone, or no
// longer verify.
func (c *cadence) check() error {
	if c.old > 2*c.every {
		return fmt.Errorf("%w: %d events older than %s follow the latest checkpoint that verifies, but checkpoints follow every %d events: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, c.old, anchorSlack, c.every)
	}
	if f := c.first; f != nil {
		return fmt.Errorf("%w: event %s (#%d) of %s is covered by no checkpoint that verifies, but checkpoints follow an event within %s: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, f.id, f.at+1, f.time, c.interval)
	}
	return nil
}
