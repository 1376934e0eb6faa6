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
}

// revokeTolerance is how much earlier than this replica's clock says another replica may have
// dropped an expired key without that counting as a revocation.
const revokeTolerance = time.Minute

// noteLoaded notes for onLoad set, loaded at now, when it is another generation than the one in
// force (none before the first snapshot), and makes it the one in force.
func (m *Manager) noteLoaded(ctx context.Context, set Set, now time.Time) {
	prev := m.inForce
	m.inForce = set
	if m.onLoad == nil || m.snapshot.Load() == nil || set.Generation == prev.Generation {
		return
	}
	l := Loaded{From: prev.Generation, Generation: set.Generation}
	before := prev.Metas()
	for _, k := range set.Keys {
		old, ok := prev.Find(k.KID)
		switch {
		case !ok:
			l.Published = append(l.Published, k.Meta)
		case !old.Retires.Equal(k.Retires):
			l.Retired = append(l.Retired, k.Meta)
		}
	}
	for _, k := range prev.Keys {
		if _, ok := set.Find(k.KID); ok {
			continue
		}
		// A key that was due to expire about now (another replica's clock may be ahead, or its
		// policy shorter) was dropped; a key dated ahead was dropped by the schedule decided
		// again, unless a key of its algorithm signing from its creation came with it, as the
		// replacement of a revoked key does; any other key that had more time left was revoked.
		switch {
		case expiredAt(now.Add(revokeTolerance), k.Meta, before, m.policy):
			l.Dropped = append(l.Dropped, k.KID)
		case datedAhead(now, k.Meta) && !slices.ContainsFunc(l.Published, func(n Meta) bool {
			return immediate(n) && sameAlg(n, k.Meta)
		}):
			l.DroppedAhead = append(l.DroppedAhead, k.KID)
		default:
			l.Revoked = append(l.Revoked, k.KID)
		}
	}
	m.loaded = append(m.loaded, l)
}

// tellLoaded tells onLoad of the changes noteLoaded found, once they are in force: telling (an
// audit event on the store) must not delay putting a revocation in force.
func (m *Manager) tellLoaded(ctx context.Context) {
	for _, l := range m.loaded {
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
