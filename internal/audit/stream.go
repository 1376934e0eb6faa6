package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Lister lists a whole trail, oldest first from the chain's first event, handing it to add page
// by page in order, and returns its own error, if any, once it has listed what it could.
type Lister func(add func(page []Event)) error

// recentEvents is how many of the latest events a verifier keeps what checkpoints need of: a
// checkpoint covers the events before it but those appended while it was being signed, so the
// count it names is that few events behind it. A checkpoint naming a count further behind (moved
// or copied by a store writer, or signed during a burst of more events) costs one more listing.
const recentEvents = 1 << 14

// maxKept bounds how many events a verifier keeps from one listing to the next, beyond the
// latest recentEvents: the events checkpoints name further behind them than those (see
// stretchFor). Replicas append far fewer while one checkpoint is signed; more mean checkpoints
// moved, or events inserted before them, and the events between are reported unanchored rather
// than kept, so memory does not grow with the trail.
const maxKept = 4 * recentEvents

// maxListings bounds the listings of one verification: the second keeps all the first found
// missing, so a third is needed only when the trail changed between them.
const maxListings = 3

// VerifyListed is VerifyAnchored, with the same Report and errors, of the trail list yields, as
// it yields it: it keeps what the later checks need (hash, time, ID) of the latest recentEvents
// events, of the events cfg.State names and of those a checkpoint names far behind it (at most
// maxKept of them), and of the others nothing, so its memory does not grow with the trail. A
// checkpoint naming a count further behind it than the events kept makes it list the trail
// again, keeping those events (at most maxListings listings); checkpoints naming more than
// maxKept such events fail with ErrUnanchored. With cfg.Now zero, each listing is checked as of when it
// begins. A listing's error is returned as it is.
func VerifyListed(list Lister, cfg AnchorConfig) (Report, error) {
	return verifyListed(list, cfg, recentEvents)
}

// verifyListed is VerifyListed keeping the latest recent events (at least 2).
func verifyListed(list Lister, cfg AnchorConfig, recent int) (Report, error) {
	var keep []stretch
	for listing := 1; ; listing++ {
		c := cfg
		if c.Now.IsZero() {
			c.Now = time.Now()
		}
		v := newVerifier(c, keep, max(recent, 2))
		if err := list(v.add); err != nil {
			return Report{}, err
		}
		r, missing, err := v.finish()
		if len(missing) == 0 {
			return r, err
		}
		if listing == maxListings {
			return r, fmt.Errorf("the trail changed while it was listed %d times: each listing's checkpoints named events the listing before had not kept; verify it again", maxListings)
		}
		keep = append(keep, missing...)
		if n := keptEvents(keep); n > maxKept {
			return r, fmt.Errorf("%w: checkpoints name %d events further behind them than the latest %d a verifier keeps (the first from position %d), more than the %d it keeps to list the trail again: checkpoints were moved, or events inserted before them",
				ErrUnanchored, n, recent, missing[0].from, maxKept)
		}
	}
}

// keptEvents is how many events the stretches hold, those that overlap counted once.
func keptEvents(stretches []stretch) int64 {
	var n int64
	for _, k := range merge(append([]stretch(nil), stretches...)) {
		n += k.to - k.from + 1
	}
	return n
}

// stretch is the events at positions from to to, both included.
type stretch struct{ from, to int64 }

// stretchFor is the stretch a checkpoint at position at naming count needs: the event count-1,
// whose hash the claim names, and with whole the events from count up to the checkpoint, which
// are not anchored when it becomes the latest.
func stretchFor(count, at int64, whole bool) stretch {
	if !whole {
		if count == 0 {
			return stretch{0, -1} // no event: the claim's tail is ""
		}
		return stretch{count - 1, count - 1}
	}
	return stretch{max(count-1, 0), at - 1}
}

// seen is what a verifier keeps of an event.
type seen struct {
	hash [sha256.Size]byte
	// hashErr is why the event has no hash (a field that is not valid UTF-8).
	hashErr error
	// checkpoint: the event is a checkpoint that verified (one that does not verify anchors nothing
	// and counts as any other event).
	checkpoint bool
	// dated: its time parses, as at.
	dated bool
	at    time.Time
	// id and time are its ID and time, as the trail has them.
	id, time string
}

// hexHash is the event's hash as Hash writes it.
func (s *seen) hexHash() string { return hex.EncodeToString(s.hash[:]) }

// keptStretch holds the events of a stretch a listing keeps whole.
type keptStretch struct {
	stretch
	seen []seen
}

// verifier checks one listing of a trail event by event (VerifyAnchored's checks, in its order).
type verifier struct {
	cfg AnchorConfig
	// settled is when events must precede to count against the schedule (see cadence).
	settled time.Time
	// n is how many events were added.
	n int64
	// recent holds the latest size events, the one at position p at p % size.
	recent []seen
	size   int64
	// kept holds the stretches kept whole, sorted and apart; into is the one the next event may
	// fall in.
	kept []keptStretch
	into int
	// broken is the first link that does not hold: nothing after it is checked.
	broken error
	// failed is the first checkpoint that does not verify: no checkpoint after it is checked.
	failed error
	// missing are the stretches a further listing must keep: a checkpoint named events not kept,
	// so neither it nor the checkpoints after it were checked.
	missing []stretch
	// anchoredAtMiss is r.Anchored when the first missing stretch was found.
	anchoredAtMiss int64
	r              Report
	// late is the schedule's view of the events from r.Anchored on.
	late cadence
}

// newVerifier starts a listing's verification: keep are the stretches to keep whole, besides the
// latest recent events and what cfg.State names.
func newVerifier(cfg AnchorConfig, keep []stretch, recent int) *verifier {
	v := &verifier{cfg: cfg, settled: settledAt(cfg.Now), size: int64(recent)}
	keep = append([]stretch(nil), keep...)
	if s := cfg.State; s != nil {
		keep = append(keep, stretch{s.Count - 1, s.Count - 1})
		if claim, err := decodeClaim(s.Checkpoint); err == nil {
			keep = append(keep, stretch{claim.Count - 1, claim.Count - 1})
		}
	}
	v.kept = merge(keep)
	v.late = newCadence(0, nil, cfg)
	return v
}

// merge sorts stretches, drops those before position 0 or empty, and joins those that touch.
func merge(stretches []stretch) []keptStretch {
	sort.Slice(stretches, func(i, j int) bool { return stretches[i].from < stretches[j].from })
	var out []keptStretch
	for _, s := range stretches {
		s.from = max(s.from, 0)
		if s.to < s.from {
			continue
		}
		if k := len(out) - 1; k >= 0 && s.from <= out[k].to+1 {
			out[k].to = max(out[k].to, s.to)
			continue
		}
		out = append(out, keptStretch{stretch: s})
	}
	return out
}

// add checks a page of the listing.
func (v *verifier) add(page []Event) {
	for i := range page {
		v.addEvent(&page[i])
	}
}

// addEvent checks the event at position v.n: its link, then, when it is a checkpoint, its
// signature and the events it covers.
func (v *verifier) addEvent(e *Event) {
	at := v.n
	v.n++
	if e.Action == LateAnchorAction && e.Actor == CheckpointActor {
		v.r.LateAnchors++
		v.r.LastLateAnchor = at
	}
	if v.broken != nil {
		return
	}
	if at == 0 && e.Prev != "" {
		v.broken = fmt.Errorf("%w: the first event %s has prev %q: the start of the chain is missing (without store.redis a replica keeps only the latest audit.memory.retain events)",
			ErrBroken, e.ID, e.Prev)
		return
	}
	if at > 0 {
		prev := &v.recent[(at-1)%v.size] // the recent events always hold the one before
		if prev.hashErr != nil {
			v.broken = prev.hashErr
			return
		}
		var want [2 * sha256.Size]byte
		hex.Encode(want[:], prev.hash[:])
		if e.Prev != string(want[:]) {
			v.broken = fmt.Errorf("%w at event %s (index %d): prev %q, want %q", ErrBroken, e.ID, at, e.Prev, string(want[:]))
			return
		}
	}
	s := v.keep(at, e)
	if v.failed != nil {
		return
	}
	if e.Action == CheckpointAction && v.checkpoint(e, at) {
		v.anchors(at)
		return
	}
	if v.missing == nil && v.failed == nil {
		v.late.add(s, at, v.settled)
	}
}

// anchors marks the event at position at, the last one kept, as a checkpoint that verified.
func (v *verifier) anchors(at int64) {
	v.recent[at%v.size].checkpoint = true
	if v.into < len(v.kept) && v.kept[v.into].from <= at && at <= v.kept[v.into].to {
		k := &v.kept[v.into]
		k.seen[len(k.seen)-1].checkpoint = true
	}
}

// newSeen is what a verifier keeps of e: its hash, ID and time.
func newSeen(e *Event) seen {
	s := seen{id: e.ID, time: e.Time}
	var buf [1024]byte // most events fit, as in Hash
	if canonical, err := appendCanonical(buf[:0], e); err != nil {
		s.hashErr = err
	} else {
		s.hash = sha256.Sum256(canonical)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	s.dated, s.at = err == nil, t
	return s
}

// keep records the event at position at among the recent events and in the kept stretch it falls
// in, and returns the record.
func (v *verifier) keep(at int64, e *Event) *seen {
	s := newSeen(e)
	for v.into < len(v.kept) && v.kept[v.into].to < at {
		v.into++
	}
	if v.into < len(v.kept) && v.kept[v.into].from <= at {
		v.kept[v.into].seen = append(v.kept[v.into].seen, s)
	}
	var out *seen
	if int64(len(v.recent)) < v.size {
		v.recent = append(v.recent, s)
		out = &v.recent[len(v.recent)-1]
	} else {
		out = &v.recent[at%v.size]
		*out = s
	}
	return out
}

// lookup returns what was kept of the event at position p, if anything.
func (v *verifier) lookup(p int64) (*seen, bool) {
	if p < 0 || p >= v.n {
		return nil, false
	}
	if p >= v.n-int64(len(v.recent)) {
		return &v.recent[p%v.size], true
	}
	k := sort.Search(len(v.kept), func(i int) bool { return v.kept[i].to >= p })
	if k < len(v.kept) && v.kept[k].from <= p && p-v.kept[k].from < int64(len(v.kept[k].seen)) {
		return &v.kept[k].seen[p-v.kept[k].from], true
	}
	return nil, false
}

// holds reports whether every event of s was kept.
func (v *verifier) holds(s stretch) bool {
	for p := s.from; p <= s.to; {
		if p >= v.n-int64(len(v.recent)) {
			return s.to < v.n
		}
		k := sort.Search(len(v.kept), func(i int) bool { return v.kept[i].to >= p })
		if k == len(v.kept) || v.kept[k].from > p {
			return false
		}
		p = v.kept[k].from + int64(len(v.kept[k].seen))
	}
	return true
}

// checkpoint checks the checkpoint e at position at as VerifyAnchored does; when it names events
// no longer kept, it notes them missing and from then on only notes what the checkpoints after
// it need.
func (v *verifier) checkpoint(e *Event, at int64) bool {
	if v.missing != nil {
		claim, err := decodeClaim(e.Detail)
		if err != nil || claim.Count < 0 || claim.Count > at {
			return false // it does not verify, or names events after it: it needs none
		}
		if s := stretchFor(claim.Count, at, claim.Count >= v.anchoredAtMiss); !v.holds(s) {
			v.missing = append(v.missing, s)
		}
		return false
	}
	a := Anchor{Event: *e, At: at}
	var err error
	a.KID, a.Claim, err = verifyCheckpoint(e.Detail, v.cfg)
	if errors.Is(err, errUnpublished) {
		v.r.Unverifiable = append(v.r.Unverifiable, a)
		return false
	}
	if err != nil {
		v.failed = fmt.Errorf("%w: checkpoint %s (#%d): %w", ErrForged, e.ID, at+1, err)
		return false
	}
	if a.Claim.Time != e.Time {
		v.failed = fmt.Errorf("%w: checkpoint %s (#%d) was signed at %s but its event says %s", ErrRewritten, e.ID, at+1, a.Claim.Time, e.Time)
		return false
	}
	if a.Claim.Count > at {
		v.failed = fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events, but only %d precede it", ErrTruncated, e.ID, at+1, a.Claim.Count, at)
		return false
	}
	// One that covers no more than the latest before it anchors nothing more (a copy a store
	// writer put in place of events, or the loser of a race of replicas of old): it counts as
	// any other event.
	latest := v.r.Latest == nil || a.Claim.Count > v.r.Anchored
	next := newCadence(a.Claim.Count, &a, v.cfg)
	reuse := latest && next.from == v.late.from && next.interval == v.late.interval
	if s := stretchFor(a.Claim.Count, at, latest && !reuse); !v.holds(s) {
		v.missing, v.anchoredAtMiss = []stretch{s}, v.r.Anchored
		return false
	}
	if err := v.coversPrefix(a.Claim.Count, a.Claim.Tail); err != nil {
		v.failed = fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events ending in hash %s, but the trail's first %d events end in %s",
			ErrRewritten, e.ID, at+1, a.Claim.Count, a.Claim.Tail, a.Claim.Count, err.Error())
		return false
	}
	v.r.Verified++
	if !latest {
		return false
	}
	if reuse {
		next.unanchored, next.old, next.first = v.late.unanchored, v.late.old, v.late.first
	} else {
		for p := next.from; p < at; p++ {
			s, _ := v.lookup(p) // held, checked above
			next.add(s, p, v.settled)
		}
	}
	v.r.Latest, v.r.Anchored, v.late = &a, a.Claim.Count, next
	return true
}

// coversPrefix checks that the trail's first count events end in the hash tail, and returns the
// hash they end in otherwise (as VerifyAnchored words it).
func (v *verifier) coversPrefix(count int64, tail string) error {
	got := ""
	if count > 0 {
		s, ok := v.lookup(count - 1)
		if !ok {
			return fmt.Errorf("(event #%d was not kept)", count)
		}
		if s.hashErr != nil {
			return s.hashErr
		}
		got = s.hexHash()
	}
	if got != tail {
		if got == "" {
			return errors.New(`"" (no event)`)
		}
		return errors.New(got)
	}
	return nil
}

// finish ends the listing: the Report and error VerifyAnchored gives for the trail, or the
// stretches a further listing must keep to check it.
func (v *verifier) finish() (Report, []stretch, error) {
	r := v.r
	r.Events = v.n
	if v.broken == nil && v.n > 0 {
		// The events before the last were hashed to check the link after them; the last has
		// no link after it, and is held to having a hash all the same.
		if last := &v.recent[(v.n-1)%v.size]; last.hashErr != nil {
			v.broken = last.hashErr
		}
	}
	switch {
	case v.broken != nil:
		return Report{Events: v.n}, nil, v.broken
	case v.failed != nil:
		return r, nil, v.failed
	case v.missing != nil:
		return r, v.missing, nil
	}
	r.Unanchored = v.late.unanchored
	if err := v.late.check(); err != nil {
		return r, nil, err
	}
	if err := v.checkState(); err != nil {
		return r, nil, err
	}
	r.State = v.nextState(r.Latest)
	return r, nil, nil
}

// checkState checks the trail against what cfg.State saw: its latest checkpoint's events and its
// whole trail must still lead the trail.
func (v *verifier) checkState() error {
	s := v.cfg.State
	if s == nil {
		return nil
	}
	if s.Issuer != v.cfg.Issuer {
		return fmt.Errorf("the state is of issuer %q, not %q", s.Issuer, v.cfg.Issuer)
	}
	if s.Checkpoint != "" {
		claim, err := decodeClaim(s.Checkpoint)
		if err != nil {
			return fmt.Errorf("the state's checkpoint: %w", err)
		}
		if claim.Count > v.n {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events, but the trail holds %d", ErrTruncated, claim.Count, v.n)
		}
		if err := v.coversPrefix(claim.Count, claim.Tail); err != nil {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events ending in hash %s, but they now end in %s",
				ErrRewritten, claim.Count, claim.Tail, err.Error())
		}
	}
	if s.Count > v.n {
		return fmt.Errorf("%w: the trail held %d events when last verified, it now holds %d", ErrTruncated, s.Count, v.n)
	}
	if err := v.coversPrefix(s.Count, s.Tail); err != nil {
		return fmt.Errorf("%w: the trail's first %d events ended in hash %s when last verified, they now end in %s", ErrRewritten, s.Count, s.Tail, err.Error())
	}
	return nil
}

// nextState is the state after verifying the trail: the whole trail, and the latest checkpoint
// verified now or earlier.
func (v *verifier) nextState(latest *Anchor) State {
	s := State{Issuer: v.cfg.Issuer, Count: v.n}
	if last, ok := v.lookup(v.n - 1); ok {
		s.Tail = last.hexHash() // finish refused a trail whose last event has no hash
	}
	if v.cfg.State != nil {
		s.Checkpoint = v.cfg.State.Checkpoint
	}
	if latest != nil {
		if old, err := decodeClaim(s.Checkpoint); s.Checkpoint == "" || err != nil || old.Count <= latest.Claim.Count {
			s.Checkpoint = latest.Event.Detail
		}
	}
	return s
}
