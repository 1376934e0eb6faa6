package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxWriteBacks bounds how often one load saves the set in force back over a stored set that
// went back, while other replicas keep saving first.
const maxWriteBacks = 3

// noteDeparted records the keys of prev that next leaves out: revoked, or dropped once expired.
// Guarded by sem.
func (m *Manager) noteDeparted(prev []Meta, next Set) {
	for _, k := range prev {
		if _, ok := next.Find(k.KID); !ok {
			if m.departed == nil {
				m.departed = map[string]struct{}{}
			}
			m.departed[k.KID] = struct{}{}
		}
	}
}

// broughtBack lists the keys of set, loaded at now, that left a set in force here, or that the
// set in force records as revoked, and are not expired in set: a revoked key the store holds
// again because it lost the revocation's save (a failover, a backup put back) and a replica that
// never took the revocation saved its set under the same or a later generation. A replica
// started after the revocation never held the key, and knows it from the record. An expired key
// neither signs nor is published, and the policy drops it again.
func (m *Manager) broughtBack(set Set, now time.Time) []string {
	var back []string
	metas := set.Metas()
	for _, k := range metas {
		_, left := m.departed[k.KID]
		revoked := slices.ContainsFunc(m.inForce.Revoked, func(r Revocation) bool { return r.KID == k.KID })
		if (left || revoked) && !expiredAt(now, k, metas, m.policy) {
			back = append(back, k.KID)
		}
	}
	return back
}

// lostAll reports that set, loaded at now, shares no key with the set in force here while that
// holds keys not expired, set revokes none of them, and its generation is no later than the set
// in force's: the store lost every key (a Redis restarted empty), and another replica, starting
// on it as on a first start, saved a set of its own from generation 1. Taken, it would drop the
// keys this replica signed with, whose tokens are still valid. A later generation follows the
// set in force (every save counts up from the set it read): such a set, which the backend of the
// replica that saved it may have left keys out of (a Transit key configured away from), is
// taken.
func (m *Manager) lostAll(set Set, now time.Time) bool {
	if set.Generation > m.inForce.Generation {
		return false
	}
	metas := m.inForce.Metas()
	live := false
	for _, k := range metas {
		if _, shared := set.Find(k.KID); shared {
			return false
		}
		live = live || !expiredAt(now, k, metas, m.policy) && !withdrawnFrom(set, k.KID)
	}
	return live && len(set.revokes(m.inForce)) == 0
}

// diverged reports that set, loaded at now, is of the generation in force here but leaves out a
// key of the set in force that is not expired, never left a set in force here, and that set does
// not revoke nor withdraw: the store went back (a backup put back) and another replica counted up from there
// to this replica's generation. Every save counts up from the set it read, so two sets of one
// generation that differ did not both come from one history. Taken, it would drop a key this
// replica signs or signed with, whose tokens are still valid.
func (m *Manager) diverged(set Set, now time.Time) bool {
	if set.Generation != m.inForce.Generation {
		return false
	}
	metas := m.inForce.Metas()
	for _, k := range metas {
		_, shared := set.Find(k.KID)
		_, left := m.departed[k.KID]
		revoked := slices.ContainsFunc(set.Revoked, func(r Revocation) bool { return r.KID == k.KID })
		if !shared && !left && !revoked && !withdrawnFrom(set, k.KID) && !expiredAt(now, k, metas, m.policy) {
			return true
		}
	}
	return false
}

// withdrawnFrom reports whether the backend left the key kid out of set on purpose (Withdrawn: it
// may no longer sign with it), which no write-back puts back.
func withdrawnFrom(set Set, kid string) bool {
	return slices.ContainsFunc(set.Withdrawn, func(w Meta) bool { return w.KID == kid })
}

// load loads the key set. A set that goes back on the set in force is not taken: the set in
// force is saved over it (see writeBackSet). Such a set brings back a key that left the set in
// force (see broughtBack), with or without WriteBack: a revoked key never comes back while the
// replica runs, and a later change (another revocation) is made on the set saved. With
// WriteBack, a set of an older generation goes back too (the store lost saves), and so does one
// of any generation that shares no key with the set in force (see lostAll), or one of the same
// generation that leaves out a live key of it (see diverged): the union of both is saved, so
// that every key either replica signed with stays published.
//
// A revocation wins over a write-back: a set that records as revoked a key in force here (it
// was revoked on a store that went back, before this replica wrote back) is taken, whatever its
// generation, and keys that only the set in force held leave it with the revoked one. When it
// also brings keys back, it is saved without them.
func (m *Manager) load(ctx context.Context) (Set, error) {
	set, err := m.backend.Load(ctx)
	if err != nil {
		return Set{}, fmt.Errorf("keys: load key set: %w", err)
	}
	for i := 0; ; i++ {
		if err != nil {
			return Set{}, err
		}
		back := m.broughtBack(set, m.now())
		revoked := set.revokes(m.inForce)
		lost := m.writeBack && (m.lostAll(set, m.now()) || m.diverged(set, m.now()))
		older := m.writeBack && (set.Generation < m.inForce.Generation || lost) && len(revoked) == 0
		switch {
		case len(back) == 0 && len(revoked) > 0:
			m.log.WarnContext(ctx, "keys: the stored key set revokes keys in force here (revoked on a store that went back); taking it",
				"kids", revoked, "stored_generation", set.Generation, "generation_in_force", m.inForce.Generation)
			return set, nil
		case len(back) == 0 && !older:
			return set, nil
		case i == maxWriteBacks:
			return Set{}, fmt.Errorf("keys: write back the key set: %w", ErrConflict)
		}
		var saved bool
		if set, saved, err = m.writeBackSet(ctx, set, back, lost); saved {
			return set, nil // the set in force, saved: not to be checked against itself
		}
	}
}

// writeBackSet saves over stored, a set the store went back to (it lost saves, see load), the
// set in force: the keys this replica publishes and signs with stay, rather than a key made now
// signing at once and keys whose tokens are still valid leaving the JWKS; a revocation the
// store lost stays too. When stored records the revocation of keys in force here, what is saved
// is stored without the keys back lists instead. The revocations of both sets are kept. When
// another replica saved first (it wrote back too, or decided a change), its set is returned,
// for load to check again; saved reports that next was saved. union tells that stored leaves out
// keys in force here that another replica's set replaced (see lostAll and diverged). Unless stored revokes keys in force here, its keys
// that never left a set in force here are saved too.
func (m *Manager) writeBackSet(ctx context.Context, stored Set, back []string, union bool) (_ Set, saved bool, _ error) {
	next := m.inForce.Clone()
	revoked := stored.revokes(m.inForce)
	if len(revoked) > 0 {
		m.log.WarnContext(ctx, "keys: the stored key set revokes keys in force here and brings back keys that left it; saving it without them",
			"revoked", revoked, "kids", back, "stored_generation", stored.Generation, "generation_in_force", m.inForce.Generation)
		next = stored.Clone()
		next.Keys = slices.DeleteFunc(next.Keys, func(k Key) bool { return slices.Contains(back, k.KID) })
	} else if len(back) > 0 {
		m.log.WarnContext(ctx, "keys: the stored key set brings back keys that left the set in force (revoked, or the store went back); writing back the set in force",
			"kids", back, "stored_generation", stored.Generation, "generation_in_force", m.inForce.Generation)
	} else if union {
		m.log.WarnContext(ctx, "keys: the stored key set leaves out keys in force here (the store lost them, and another replica saved a set of its own from what was left); saving both sets' keys",
			"stored_generation", stored.Generation, "generation_in_force", m.inForce.Generation)
	} else {
		m.log.WarnContext(ctx, "keys: the store went back to an older key set (it lost saves); writing back the set in force",
			"stored_generation", stored.Generation, "generation_in_force", m.inForce.Generation)
	}
	if len(revoked) == 0 {
		// The stored set's keys that never left a set in force here stay too: another replica
		// may have signed with them (one that started on a store that lost every key, whose set
		// this replica's older one would otherwise push out).
		// An expired one (dropped before this replica started, which never saw it leave) stays
		// out: it neither signs nor is published.
		now, metas := m.now(), slices.Concat(next.Metas(), stored.Metas())
		for _, k := range stored.Keys {
			_, left := m.departed[k.KID]
			if _, ok := next.Find(k.KID); !ok && !left && !slices.Contains(back, k.KID) && !expiredAt(now, k.Meta, metas, m.policy) {
				next.Keys = append(next.Keys, k)
			}
		}
	}
	next.Revoked = withRevocations(m.inForce.Revoked, stored.Revoked...)
	next.Keys = slices.DeleteFunc(next.Keys, func(k Key) bool {
		return slices.ContainsFunc(next.Revoked, func(r Revocation) bool { return r.KID == k.KID }) || withdrawnFrom(stored, k.KID)
	})
	next.Generation = stored.Generation + 1
	err := m.backend.Save(ctx, next)
	if errors.Is(err, ErrConflict) {
		if stored, err = m.backend.Load(ctx); err != nil {
			return stored, false, fmt.Errorf("keys: load key set: %w", err)
		}
		return stored, false, nil
	}
	if err != nil {
		return stored, false, fmt.Errorf("keys: write back the key set: %w", err)
	}
	next.Withdrawn = stored.Withdrawn // for the schedule to replace what the backend withdrew
	return next, true, nil
}
