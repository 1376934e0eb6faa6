package keys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrRotationPending is returned by ForceRotate when a key that has not started signing yet is
// already in the set.
var ErrRotationPending = errors.New("keys: a rotation is already pending")

// Decision is what the schedule asks of one chain of a key set at one instant. Apply turns it
// into the next set.
type Decision struct {
	// Alg is the algorithm of the chain, and of the key to generate.
	Alg string
	// Generate asks for a new key that starts signing at Activates.
	Generate  bool
	Activates time.Time
	// Retire is the KID of the key whose Retires becomes Retires (the new key's Activates);
	// empty for none.
	Retire  string
	Retires time.Time
	// Drop lists the KIDs of the keys to remove from the set: expired keys, and keys a replica
	// whose clock was ahead saved, which never signed (see misdated).
	Drop []string
}

// Empty reports that the set needs no change.
func (d Decision) Empty() bool { return !d.Generate && d.Retire == "" && len(d.Drop) == 0 }

// Delayed returns d, decided at decidedAt, for a new key made late after that: the key's
// activation, and the retirement at it, move by late, so that the key is still saved Lead
// before it signs however long making it took (a Transit key version may take seconds). A
// decision without a new key, or whose key signs at once, is returned as is.
func (d Decision) Delayed(decidedAt time.Time, late time.Duration) Decision {
	if !d.Generate || late <= 0 || !d.Activates.After(decidedAt) {
		return d
	}
	if d.Retire != "" && d.Retires.Equal(d.Activates) {
		d.Retires = d.Retires.Add(late)
	}
	d.Activates = d.Activates.Add(late)
	return d
}

// compareMeta orders keys by Activates, then Created, then KID, so that every replica breaks ties
// the same way.
func compareMeta(a, b Meta) int {
	if c := a.Activates.Compare(b.Activates); c != 0 {
		return c
	}
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.KID, b.KID)
}

// activeAt reports that m has started signing at now and has not been retired.
func activeAt(now time.Time, m Meta) bool {
	return !m.Activates.After(now) && (m.Retires.IsZero() || now.Before(m.Retires))
}

// expiredAt reports that m, a key of set, stopped signing at least p.Retain ago on every replica
// (see signsUntil and Policy.Linger).
func expiredAt(now time.Time, m Meta, set []Meta, p Policy) bool {
	if !pastRetain(now, m, set, p) {
		return false
	}
	// A key stays while a key before it in its chain stays: that key's time in the JWKS may be
	// counted from this one's creation (signsUntil), which dropping this one would forget. So m
	// has expired when it and every key before it are past their retain, which takes one pass
	// over the set, never a judgement of each earlier key in turn.
	alg, _ := NormalizeAlg(m.Alg)
	for _, o := range set {
		if a, _ := NormalizeAlg(o.Alg); a == alg && compareMeta(o, m) < 0 && !pastRetain(now, o, set, p) {
			return false
		}
	}
	return true
}

// pastRetain reports that m, a key of set, is retired and its time in the JWKS after it last
// signed (signsUntil, plus Linger and Retain) is over at now.
func pastRetain(now time.Time, m Meta, set []Meta, p Policy) bool {
	return !m.Retires.IsZero() && !now.Before(signsUntil(m, set, p).Add(p.Linger()+p.Retain))
}

// signsUntil is the last instant a retired key m of set may sign on a replica under p: its
// Retires, or, when later, its successor's creation plus p.Lead(). A replica signs with a new
// key only once it was saved Lead ago under the replica's own policy, whatever its Activates
// says (see Manager.signing), so a rotation started with a shorter prepublish than the
// servers' keeps the old key signing past its Retires; its tokens must keep verifying for
// Retain after that.
func signsUntil(m Meta, set []Meta, p Policy) time.Time {
	until := m.Retires
	alg, _ := NormalizeAlg(m.Alg)
	var next Meta
	found := false
	for _, n := range set {
		if a, _ := NormalizeAlg(n.Alg); a != alg || compareMeta(n, m) <= 0 {
			continue
		}
		if !found || compareMeta(n, next) < 0 {
			next, found = n, true
		}
	}
	if found && !immediate(next) {
		if held := next.Created.Add(p.Lead()); held.After(until) {
			until = held
		}
	}
	return until
}

// chain returns the keys of set whose algorithm is alg (an empty Alg counts as RS256).
func chain(set []Meta, alg string) []Meta {
	var out []Meta
	for _, m := range set {
		if a, _ := NormalizeAlg(m.Alg); a == alg {
			out = append(out, m)
		}
	}
	return out
}

// latest returns the key of set that activates last.
func latest(set []Meta) (Meta, bool) {
	if len(set) == 0 {
		return Meta{}, false
	}
	return slices.MaxFunc(set, compareMeta), true
}

// Signing returns the key of algorithm alg that signs at now: of the keys of set with that
// algorithm, the latest-activated among those whose Activates is not after now and whose Retires (if set) is after now. So that signing never stops
// for lack of a successor, it falls back to the latest key with Activates not after now even if
// retired, and, when every key activates in the future (a replica whose clock is behind the one
// that bootstrapped the set), to the earliest key. It reports false only when set has no key of
// alg.
func Signing(now time.Time, set []Meta, alg string) (Meta, bool) {
	alg, _ = NormalizeAlg(alg)
	return signingOf(now, chain(set, alg))
}

// signingOf is Signing over the keys of one chain.
func signingOf(now time.Time, set []Meta) (Meta, bool) {
	var active, started []Meta
	for _, m := range set {
		if !m.Activates.After(now) {
			started = append(started, m)
			if activeAt(now, m) {
				active = append(active, m)
			}
		}
	}
	switch {
	case len(active) > 0:
		return slices.MaxFunc(active, compareMeta), true
	case len(started) > 0:
		return slices.MaxFunc(started, compareMeta), true
	case len(set) > 0:
		return slices.MinFunc(set, compareMeta), true
	}
	return Meta{}, false
}

// Published returns the keys to publish at now, ordered by Activates: every key of set except
// those expired, that is whose Retires is set and at least p.Linger plus p.Retain before now
// (later when the successor was saved late, see signsUntil).
func Published(now time.Time, set []Meta, p Policy) []Meta {
	out := make([]Meta, 0, len(set))
	for _, m := range set {
		if !expiredAt(now, m, set, p) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, compareMeta)
	return out
}

// Decide applies the schedule p to set at now, chain by chain in the order of p.Algorithms(),
// and returns the change of the first chain that needs one (so a caller applies Decisions until
// one is Empty). Within the chain of algorithm A:
//   - an empty chain gets a key that signs at once when no key of set was created before now
//     (nothing can have cached a JWKS yet), else one that signs Lead after now;
//   - when the latest key L has signed for Period-Lead, a new key N is generated with
//     N.Activates = max(now+Lead, L.Activates+Period) and L.Retires = N.Activates, so that N is
//     in every replica's JWKS at least Prepublish before it signs, even after an outage (when
//     Lead is not less than Period, each key signs for Lead instead of Period);
//   - expired keys are dropped (never the one signing at now);
//   - keys saved on a clock ahead (see misdated) are dropped and the schedule decides again
//     from now: when L.Retires lies past horizon, L retires at max(now+Lead, L.Activates+Period).
//     When no key of a chain signs at now (every one dated ahead) nothing is judged: this
//     replica's clock may be the one behind, and rewriting the chain from it would have the
//     replicas whose clocks are right sign with a key no JWKS has served.
//
// Keys of an algorithm p does not maintain stop signing at now (also those whose retirement a
// clock ahead put off) and are dropped once expired, or at once when misdated. The result is
// Empty when nothing changes.
func Decide(now time.Time, set []Meta, p Policy) Decision {
	algs := p.Algorithms()
	for _, alg := range algs {
		if d := decideChain(now, chainOf(now, set, alg), p); !d.Empty() {
			d.Alg = alg
			return d
		}
	}
	var d Decision
	for _, m := range set {
		a, _ := NormalizeAlg(m.Alg)
		switch {
		case slices.Contains(algs, a):
		case expiredAt(now, m, set, p) || slices.Contains(misdated(now, chain(set, a), p), m.KID):
			d.Drop = append(d.Drop, m.KID)
		case d.Retire == "" && (m.Retires.IsZero() || m.Retires.After(horizon(now, m, p))):
			d.Alg, d.Retire, d.Retires = a, m.KID, now
		}
	}
	return d
}

// fresh reports that no key of set was created before now, so none can have been published. A
// key dated ahead (see datedAhead) was saved by a replica whose clock ran ahead, and may have
// been published since.
func fresh(now time.Time, set []Meta) bool {
	return !slices.ContainsFunc(set, func(m Meta) bool { return m.Created.Before(now) || datedAhead(now, m) })
}

// datedAhead reports that m was created more than MaxClockSkew after now: saved by a replica
// whose clock ran ahead of now by more than the replicas' clocks may differ.
func datedAhead(now time.Time, m Meta) bool { return m.Created.After(now.Add(MaxClockSkew)) }

// keyChain is the keys of one algorithm, as a key set at some time holds them.
type keyChain struct {
	// Keys are the chain's keys.
	Keys []Meta
	// SetFresh is fresh of the whole set: no key of any algorithm can have been published.
	SetFresh bool
}

// chainOf is the chain of alg in set at now.
func chainOf(now time.Time, set []Meta, alg string) keyChain {
	return keyChain{Keys: chain(set, alg), SetFresh: fresh(now, set)}
}

// decideChain is Decide for the keys of one algorithm.
func decideChain(now time.Time, c keyChain, p Policy) Decision {
	set := c.Keys
	switch {
	case len(set) == 0 && c.SetFresh:
		return Decision{Generate: true, Activates: now}
	case len(set) == 0:
		return Decision{Generate: true, Activates: now.Add(p.Lead())}
	}
	d, kept := drops(now, set, p)
	if wrong := misdated(now, kept, p); len(wrong) > 0 {
		d.Drop = append(d.Drop, wrong...)
		kept = slices.DeleteFunc(kept, func(m Meta) bool { return slices.Contains(wrong, m.KID) })
	}
	// A key followed by another yet never retired (the replacement of a key revoked while its
	// successor was pending) retires when that successor starts, so that it is dropped in turn.
	slices.SortFunc(kept, compareMeta)
	for i := 0; i+1 < len(kept); i++ {
		if kept[i].Retires.IsZero() {
			d.Retire, d.Retires = kept[i].KID, kept[i+1].Activates
			return d
		}
	}
	last, ok := latest(kept)
	if !ok {
		return d
	}
	activates := now.Add(p.Lead())
	if due := last.Activates.Add(p.Period); due.After(activates) {
		activates = due
	}
	switch {
	case !now.Before(last.Activates.Add(p.Period - p.Lead())):
		d.Generate, d.Activates = true, activates
		d.Retire, d.Retires = last.KID, activates
	case last.Retires.After(horizon(now, last, p)):
		// A retirement past the horizon without a successor comes back to the schedule.
		d.Retire, d.Retires = last.KID, activates
	}
	return d
}

// horizon is the latest instant a rotation decided at now may date the retirement of m, and
// the activation of m's successor: max(now+Lead, m.Activates+Period), plus MaxClockSkew for a
// replica whose clock is ahead of now.
func horizon(now time.Time, m Meta, p Policy) time.Time {
	h := now.Add(p.Lead())
	if due := m.Activates.Add(p.Period); due.After(h) {
		h = due
	}
	return h.Add(MaxClockSkew)
}

// misdated returns the KIDs of the keys of chain (one algorithm's keys) saved by a replica
// whose clock was ahead of now by more than MaxClockSkew (created after now plus MaxClockSkew)
// that put off the schedule (signing after the horizon of the key that signs at now): a clock
// jump forward would otherwise postpone the rotation by the jump. They have not signed by now.
// None when no key of chain has started signing at now: this replica's clock may be the one
// behind.
func misdated(now time.Time, chain []Meta, p Policy) []string {
	cur, ok := signingOf(now, chain)
	if !ok || cur.Activates.After(now) {
		return nil
	}
	hz := horizon(now, cur, p)
	var out []string
	for _, m := range chain {
		if m.Created.After(now.Add(MaxClockSkew)) && m.Activates.After(hz) {
			out = append(out, m.KID)
		}
	}
	return out
}

// ForceRotate starts a rotation of the chain of p.Alg at now regardless of the period: a new key
// that signs from now+Lead (so that every replica has published it for Prepublish by then), the
// chain's latest key retiring then. An empty chain gets its first key as Decide gives it. It
// drops nothing: it runs outside the servers (`broker keys rotate`), whose own policy and clock
// say when a key may leave (see signsUntil); their Decide drops expired keys. It fails with
// ErrRotationPending when a key of the chain has not started signing.
func ForceRotate(now time.Time, set []Meta, p Policy) (Decision, error) {
	alg, _ := NormalizeAlg(p.Alg)
	ch := chain(set, alg)
	if len(ch) == 0 {
		d := decideChain(now, keyChain{Keys: ch, SetFresh: fresh(now, set)}, p)
		d.Alg = alg
		return d, nil
	}
	d := Decision{Alg: alg}
	last, _ := latest(ch)
	if last.Activates.After(now) {
		return Decision{}, fmt.Errorf("%w: key %s starts signing at %s", ErrRotationPending,
			last.KID, last.Activates.UTC().Format(time.RFC3339))
	}
	activates := now.Add(p.Lead())
	d.Generate, d.Activates = true, activates
	d.Retire, d.Retires = last.KID, activates
	return d, nil
}

// drops returns a Decision dropping the expired keys of the chain set other than its signing
// one, and the keys kept.
func drops(now time.Time, set []Meta, p Policy) (Decision, []Meta) {
	var d Decision
	signing, _ := signingOf(now, set)
	kept := make([]Meta, 0, len(set))
	for _, m := range set {
		if expiredAt(now, m, set, p) && m.KID != signing.KID {
			d.Drop = append(d.Drop, m.KID)
			continue
		}
		kept = append(kept, m)
	}
	return d, kept
}

// Apply returns the set that results from d: Generation+1, the keys of d.Drop removed, the
// Retires of d.Retire set, and, when d.Generate, newKey added with Activates = d.Activates.
// set is not modified.
func Apply(set Set, d Decision, newKey Key) (Set, error) {
	next := Set{Generation: set.Generation + 1, Keys: make([]Key, 0, len(set.Keys)+1), Revoked: slices.Clone(set.Revoked)}
	retired := false
	for _, k := range set.Keys {
		if slices.Contains(d.Drop, k.KID) {
			continue
		}
		if d.Retire != "" && k.KID == d.Retire {
			k.Retires = d.Retires
			retired = true
		}
		next.Keys = append(next.Keys, k)
	}
	if d.Retire != "" && !retired {
		return Set{}, fmt.Errorf("%w: key %s to retire is not in the set", ErrInvalidSet, d.Retire)
	}
	if d.Generate {
		if newKey.Signer == nil {
			return Set{}, fmt.Errorf("%w: the decision needs a new key", ErrInvalidSet)
		}
		if _, dup := next.Find(newKey.KID); dup {
			return Set{}, fmt.Errorf("%w: new key %s is already in the set", ErrInvalidSet, newKey.KID)
		}
		newKey.Activates = d.Activates
		newKey.Retires = time.Time{}
		next.Keys = append(next.Keys, newKey)
	}
	return next, nil
}

// State is where a key is in its life.
type State string

// Key states, as `broker keys list` shows them.
const (
	// StatePending: published, not signing yet.
	StatePending State = "pending"
	// StateSigning: the key that signs now.
	StateSigning State = "signing"
	// StateRetired: published, no longer signing.
	StateRetired State = "retired"
	// StateExpired: no longer published; the next rotation drops it.
	StateExpired State = "expired"
)

// States returns the state at now of each key of set under p, in set's order: the i-th is the state
// of set[i] (signing: the key its algorithm's chain signs with).
func States(now time.Time, set []Meta, p Policy) []State {
	out := make([]State, len(set))
	for i, m := range set {
		signing, _ := Signing(now, set, m.Alg)
		switch {
		case m.KID == signing.KID && !m.Activates.After(now):
			out[i] = StateSigning
		case expiredAt(now, m, set, p):
			out[i] = StateExpired
		case m.Activates.After(now):
			out[i] = StatePending
		default:
			out[i] = StateRetired
		}
	}
	return out
}
