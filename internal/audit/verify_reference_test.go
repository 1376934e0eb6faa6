package audit

import (
	"errors"
	"fmt"
	"time"
)

// The verification of a whole trail in memory, as VerifyAnchored did it before it verified
// listings as they come: the reference verify_stream_test.go holds VerifyListed to, word for
// word.

// refTrail is a trail and the positions of its checkpoints that verified and anchored events
// (each covering more than every checkpoint before it).
type refTrail struct {
	events  []Event
	anchors map[int64]bool
}

func refVerifyAnchored(events []Event, cfg AnchorConfig) (Report, error) {
	trail := refTrail{events: events, anchors: map[int64]bool{}}
	r := Report{Events: int64(len(events))}
	if len(events) > 0 && events[0].Prev != "" {
		return r, fmt.Errorf("%w: the first event %s has prev %q: the start of the chain is missing (without store.redis a replica keeps only the latest audit.memory.retain events)",
			ErrBroken, events[0].ID, events[0].Prev)
	}
	if err := Verify(events); err != nil {
		return r, err
	}
	for i, e := range events {
		if e.Action != CheckpointAction {
			continue
		}
		a := Anchor{Event: e, At: int64(i)}
		var err error
		a.KID, a.Claim, err = verifyCheckpoint(e.Detail, cfg)
		if errors.Is(err, errUnpublished) {
			r.Unverifiable = append(r.Unverifiable, a)
			continue
		}
		if err != nil {
			return r, fmt.Errorf("%w: checkpoint %s (#%d): %w", ErrForged, e.ID, i+1, err)
		}
		if a.Claim.Time != e.Time {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) was signed at %s but its event says %s", ErrRewritten, e.ID, i+1, a.Claim.Time, e.Time)
		}
		if a.Claim.Count > int64(i) {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events, but only %d precede it", ErrTruncated, e.ID, i+1, a.Claim.Count, i)
		}
		if err := refCoversPrefix(events, a.Claim.Count, a.Claim.Tail); err != nil {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events ending in hash %s, but the trail's first %d events end in %s",
				ErrRewritten, e.ID, i+1, a.Claim.Count, a.Claim.Tail, a.Claim.Count, err.Error())
		}
		r.Verified++
		if r.Latest == nil || a.Claim.Count > r.Anchored {
			latest := a
			r.Latest, r.Anchored = &latest, a.Claim.Count
			trail.anchors[int64(i)] = true
		}
	}
	for i := range events[r.Anchored:] {
		if !trail.anchors[r.Anchored+int64(i)] {
			r.Unanchored++
		}
	}
	if err := refCheckCadence(trail, r, cfg); err != nil {
		return r, err
	}
	if err := refCheckState(events, cfg); err != nil {
		return r, err
	}
	r.State = refNextState(events, cfg, r.Latest)
	return r, nil
}

func refCheckCadence(trail refTrail, r Report, cfg AnchorConfig) error {
	events := trail.events
	every, interval := cfg.Every, cfg.Interval
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	if interval <= 0 {
		interval = DefaultCheckpointInterval
	}
	if r.Latest != nil && r.Latest.Claim.Every > 0 && r.Latest.Claim.Interval > 0 {
		every, interval = r.Latest.Claim.Every, time.Duration(r.Latest.Claim.Interval)*time.Second
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Events of the last anchorSlack are not counted: a burst appends them while a checkpoint is
	// being signed.
	settled := now.Add(-anchorSlack)
	allowed := interval + interval/4 + anchorSlack
	// An event dated further ahead than the schedule allows behind is undated.
	newest := now.Add(allowed + aheadAllowance)
	var old int64
	for i, e := range events[r.Anchored:] {
		if at, err := time.Parse(time.RFC3339Nano, e.Time); !trail.anchors[r.Anchored+int64(i)] && (err != nil || at.After(newest) || at.Before(settled)) {
			old++
		}
	}
	if old > 2*every {
		return fmt.Errorf("%w: %d events older than %s follow the latest checkpoint that verifies, but checkpoints follow every %d events: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, old, anchorSlack, every)
	}
	oldest := now.Add(-allowed)
	for i, e := range events[r.Anchored:] {
		if trail.anchors[r.Anchored+int64(i)] {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, e.Time)
		if err == nil && !at.Before(oldest) && !at.After(newest) {
			continue
		}
		return fmt.Errorf("%w: event %s (#%d) of %s is covered by no checkpoint that verifies, but checkpoints follow an event within %s: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, e.ID, r.Anchored+int64(i)+1, e.Time, interval)
	}
	return nil
}

func refCoversPrefix(events []Event, count int64, tail string) error {
	got := ""
	if count > 0 {
		var err error
		if got, err = Hash(events[count-1]); err != nil {
			return err
		}
	}
	if got != tail {
		if got == "" {
			return errors.New(`"" (no event)`)
		}
		return errors.New(got)
	}
	return nil
}

func refCheckState(events []Event, cfg AnchorConfig) error {
	s := cfg.State
	if s == nil {
		return nil
	}
	if s.Issuer != cfg.Issuer {
		return fmt.Errorf("the state is of issuer %q, not %q", s.Issuer, cfg.Issuer)
	}
	n := int64(len(events))
	if s.Checkpoint != "" {
		claim, err := decodeClaim(s.Checkpoint)
		if err != nil {
			return fmt.Errorf("the state's checkpoint: %w", err)
		}
		if claim.Count > n {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events, but the trail holds %d", ErrTruncated, claim.Count, n)
		}
		if err := refCoversPrefix(events, claim.Count, claim.Tail); err != nil {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events ending in hash %s, but they now end in %s",
				ErrRewritten, claim.Count, claim.Tail, err.Error())
		}
	}
	if s.Count > n {
		return fmt.Errorf("%w: the trail held %d events when last verified, it now holds %d", ErrTruncated, s.Count, n)
	}
	if err := refCoversPrefix(events, s.Count, s.Tail); err != nil {
		return fmt.Errorf("%w: the trail's first %d events ended in hash %s when last verified, they now end in %s", ErrRewritten, s.Count, s.Tail, err.Error())
	}
	return nil
}

func refNextState(events []Event, cfg AnchorConfig, latest *Anchor) State {
	s := State{Issuer: cfg.Issuer, Count: int64(len(events))}
	if len(events) > 0 {
		s.Tail, _ = Hash(events[len(events)-1]) // hashed by Verify already
	}
	if cfg.State != nil {
		s.Checkpoint = cfg.State.Checkpoint
	}
	if latest != nil {
		if old, err := decodeClaim(s.Checkpoint); s.Checkpoint == "" || err != nil || old.Count <= latest.Claim.Count {
			s.Checkpoint = latest.Event.Detail
		}
	}
	return s
}
