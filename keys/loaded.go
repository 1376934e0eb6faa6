package keys

import (
	"context"
	"slices"
	"time"
)

// Loaded is a key-set change a Manager put in force without having saved it.
type Loaded struct {
	// From is the generation in force before; Generation the one loaded.
	From, Generation int64
	// Published are the keys new in the set.
	Published []Meta
	// Retired are the keys whose retirement was set or moved.
	Retired []Meta
	// Revoked are the keys that left the set before they expired.
	Revoked []string
	// Dropped are the expired keys that left the set.
	Dropped []string
	// DroppedAhead are the keys dated ahead (saved by a replica whose clock ran ahead, see
	// datedAhead) that left the set without a revocation: the schedule was decided again from
	// now (see Decide), and no replica whose clock is right signed with them.
	DroppedAhead []string
	// InForce is the set in force when the change is told: once the change's event is recorded,
	// the trail accounts for it (see Config.Recorded).
	InForce SetMeta
}

// revokeTolerance is how much earlier than this replica's clock says another replica may have
// dropped an expired key without that counting as a revocation.
const revokeTolerance = time.Minute

// noteLoaded notes for onLoad set, loaded at now, when it is another generation than the one in
// force, and makes it the one in force. Before the first snapshot no set is in force: the first
// set loaded is compared with the one the audit trail last recorded (Config.Recorded), when
// known, so a change made while no replica ran (`broker keys revoke` with every replica
// stopped) reaches the trail too.
func (m *Manager) noteLoaded(set Set, now time.Time) {
	prev, known := m.inForce.Meta(), m.snapshot.Load() != nil
	if !known && m.recorded != nil {
		prev, known = *m.recorded, true
	}
	m.recorded = nil // the first set loaded is compared with it, and only that one
	m.noteDeparted(prev.Keys, set)
	m.inForce = set
	if m.onLoad == nil || !known || set.Generation == prev.Generation {
		return
	}
	m.loaded = append(m.loaded, compareLoaded(prev, set.Meta(), now, m.policy))
}

// compareLoaded is the change from prev, the set in force (or last recorded), to set, loaded at
// now, under p.
func compareLoaded(prev, set SetMeta, now time.Time, p Policy) Loaded {
	l := Loaded{From: prev.Generation, Generation: set.Generation}
	for _, k := range set.Keys {
		old, ok := prev.find(k.KID)
		switch {
		case !ok:
			l.Published = append(l.Published, k)
		case !old.Retires.Equal(k.Retires):
			l.Retired = append(l.Retired, k)
		}
	}
	for _, k := range prev.Keys {
		if _, ok := set.find(k.KID); ok {
			continue
		}
		// A key that was due to expire about now (another replica's clock may be ahead, or its
		// policy shorter) was dropped; a key dated ahead was dropped by the schedule decided
		// again, unless a key of its algorithm signing from its creation came with it, as the
		// replacement of a revoked key does; any other key that had more time left was revoked.
		switch {
		case expiredAt(now.Add(revokeTolerance), k, prev.Keys, p):
			l.Dropped = append(l.Dropped, k.KID)
		case datedAhead(now, k) && !slices.ContainsFunc(l.Published, func(n Meta) bool {
			return immediate(n) && sameAlg(n, k)
		}):
			l.DroppedAhead = append(l.DroppedAhead, k.KID)
		default:
			l.Revoked = append(l.Revoked, k.KID)
		}
	}
	return l
}

// tellLoaded tells onLoad of the changes noteLoaded found, once they are in force: telling (an
// audit event on the store) must not delay putting a revocation in force.
func (m *Manager) tellLoaded(ctx context.Context) {
	inForce := m.inForce.Meta()
	for _, l := range m.loaded {
		l.InForce = inForce
		m.onLoad(ctx, l)
	}
	m.loaded = nil
}

// sameAlg reports that a and b are keys of one chain (an empty Alg counts as RS256).
func sameAlg(a, b Meta) bool {
	x, _ := NormalizeAlg(a.Alg)
	y, _ := NormalizeAlg(b.Alg)
	return x == y
}

// dropReasons splits kids, keys of set dropped at now under p, into the expired ones and those
// dated ahead (see datedAhead) that the schedule decided again without.
func dropReasons(now time.Time, set []Meta, kids []string, p Policy) (expired, ahead []string) {
	for _, kid := range kids {
		i := slices.IndexFunc(set, func(m Meta) bool { return m.KID == kid })
		if i >= 0 && datedAhead(now, set[i]) && !expiredAt(now, set[i], set, p) {
			ahead = append(ahead, kid)
		} else {
			expired = append(expired, kid)
		}
	}
	return expired, ahead
}
