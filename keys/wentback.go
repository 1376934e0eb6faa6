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

// leftOut lists the keys in force here that set, loaded at now, leaves out though nothing took
// them out: none expired about now (another replica's clock may run a little ahead, see
// revokeTolerance), is dated ahead of now (see datedAhead: saved on a clock ahead, it has not
// signed here, and the schedule drops it), left a set in force here, is revoked in set, was
// withdrawn by the backend as it loaded set (see Set.Withdrawn), or was left out again after
// this replica wrote it back (see Manager.rewritten). Such a set went back, whatever its
// generation: the store lost the saves that made the key (a backup put back, a failover), and
// a replica that started on it saved its own changes from there. Taken, it would drop a key
// this replica publishes and may have signed with, whose tokens are still valid.
func (m *Manager) leftOut(set Set, now time.Time) []string {
	var out []string
	metas := m.inForce.Metas()
	for _, k := range metas {
		_, held := set.Find(k.KID)
		_, left := m.departed[k.KID]
		_, again := m.rewritten[k.KID]
		revoked := slices.ContainsFunc(set.Revoked, func(r Revocation) bool { return r.KID == k.KID })
		withdrawn := slices.ContainsFunc(set.Withdrawn, func(w Meta) bool { return w.KID == k.KID })
		dropped := expiredAt(now.Add(revokeTolerance), k, metas, m.policy) || datedAhead(now, k)
		if !held && !left && !again && !revoked && !withdrawn && !dropped {
			out = append(out, k.KID)
		}
	}
	return out
}

// noteHeld forgets, of the keys this replica wrote back, those set holds: the write-back was
// taken, and a later set that leaves one out goes back again (see leftOut). Guarded by sem.
func (m *Manager) noteHeld(set Set) {
	for kid := range m.rewritten {
		if _, ok := set.Find(kid); ok {
			delete(m.rewritten, kid)
		}
	}
}

// wentBack is what load found in a stored set against the set in force.
type wentBack struct {
	// stored is the set loaded.
	stored Set
	// back are its keys that left the set in force here (see broughtBack).
	back []string
	// left are the keys in force here it leaves out (see leftOut); none without WriteBack.
	left []string
	// revoked are the keys in force here it records as revoked.
	revoked []string
	// older says, with WriteBack, that its generation is older than the set in force's.
	older bool
}

// compare is what stored, loaded at now, holds that goes back on the set in force.
func (m *Manager) compare(stored Set, now time.Time) wentBack {
	w := wentBack{stored: stored, back: m.broughtBack(stored, now), revoked: stored.revokes(m.inForce)}
	if m.writeBack {
		w.left = m.leftOut(stored, now)
		w.older = stored.Generation < m.inForce.Generation
	}
	return w
}

// goneBack reports that the stored set is not to be taken as it is: it brings a key back, leaves
// one out, or (when it revokes none in force here) is of an older generation.
func (w wentBack) goneBack() bool {
	return len(w.back) > 0 || len(w.left) > 0 || w.older && len(w.revoked) == 0
}

// load loads the key set. A set that goes back on the set in force is not taken: the set in
// force is saved over it (see writeBackSet). Such a set brings back a key that left the set in
// force (see broughtBack), with or without WriteBack: a revoked key never comes back while the
// replica runs, and a later change (another revocation) is made on the set saved. With
// WriteBack, a set of an older generation goes back too (the store lost saves), and so does one
// of any generation that leaves out a live key in force here that nothing took out (see
// leftOut): the union of both is saved, so that every key either replica signed with stays
// published. Each such save holds every key of the stored set but those that left here, so a
// replica that saved the stored set takes it: the replicas converge.
//
// A revocation wins over a write-back for the keys it revokes: a set that records as revoked a
// key in force here (it was revoked on a store that went back, before this replica wrote back)
// is taken, whatever its generation, and the revoked keys leave with it. When it also brings
// keys back or, with WriteBack, leaves out live keys in force here that it does not revoke, it
// is saved without the first and with the second (see writeBackSet): the key that signed here
// stays published, as Revoke keeps the uncompromised key signing now.
func (m *Manager) load(ctx context.Context) (Set, error) {
	set, err := m.backend.Load(ctx)
	if err != nil {
		return Set{}, fmt.Errorf("keys: load key set: %w", err)
	}
	for i := 0; ; i++ {
		if err != nil {
			return Set{}, err
		}
		m.noteHeld(set)
		w := m.compare(set, m.now())
		switch {
		case !w.goneBack() && len(w.revoked) > 0:
			m.log.WarnContext(ctx, "keys: the stored key set revokes keys in force here (revoked on a store that went back); taking it",
				"kids", w.revoked, "stored_generation", set.Generation, "generation_in_force", m.inForce.Generation)
			return set, nil
		case !w.goneBack():
			return set, nil
		case i == maxWriteBacks:
			return Set{}, fmt.Errorf("keys: write back the key set: %w", ErrConflict)
		}
		var saved bool
		if set, saved, err = m.writeBackSet(ctx, w); saved {
			return set, nil // the set in force, saved: not to be checked against itself
		}
	}
}

// writeBackSet saves over w.stored, a set the store went back to (it lost saves, see load), the set
// in force: the keys this replica publishes and signs with stay, rather than a key made now signing
// at once and keys whose tokens are still valid leaving the JWKS; a revocation the store lost stays
// too. When w.stored records the revocation of keys in force here, what is saved is w.stored
// without the keys w.back lists and with those w.left lists instead. The revocations of both sets
// are kept, and the keys the backend withdrew as it loaded w.stored are recorded as revoked (see
// withdrawnRevoked). The keys of w.left are noted as written back (see leftOut). When another
// replica saved first (it wrote back too, or decided a change), its set is returned, for load to
// check again; saved reports that next was saved. Unless w.stored revokes keys in force here, its
// keys that never left a set in force here are saved too.
func (m *Manager) writeBackSet(ctx context.Context, w wentBack) (_ Set, saved bool, _ error) {
	stored := w.stored
	next := m.inForce.Clone()
	attrs := []any{"stored_generation", stored.Generation, "generation_in_force", m.inForce.Generation}
	switch {
	case len(w.revoked) > 0:
		m.log.WarnContext(ctx, "keys: the stored key set revokes keys in force here, and brings back keys that left it or leaves out live keys in force here; saving it without the first and with the second",
			append(attrs, "revoked", w.revoked, "kids", w.back, "left_out", w.left)...)
		next = stored.Clone()
		next.Keys = slices.DeleteFunc(next.Keys, func(k Key) bool { return slices.Contains(w.back, k.KID) })
		for _, kid := range w.left {
			k, _ := m.inForce.Find(kid)
			next.Keys = append(next.Keys, k)
		}
	case len(w.back) > 0:
		m.log.WarnContext(ctx, "keys: the stored key set brings back keys that left the set in force (revoked, or the store went back); writing back the set in force",
			append(attrs, "kids", w.back)...)
	case len(w.left) > 0:
		m.log.WarnContext(ctx, "keys: the stored key set leaves out live keys in force here (the store went back, and another replica saved on it); saving both sets' keys",
			append(attrs, "kids", w.left)...)
	default:
		m.log.WarnContext(ctx, "keys: the store went back to an older key set (it lost saves); writing back the set in force", attrs...)
	}
	if len(w.revoked) == 0 {
		// The stored set's keys that never left a set in force here stay too: another replica
		// may have signed with them (one that started on a store that went back, whose set
		// this replica's would otherwise push out).
		// An expired one (dropped before this replica started, which never saw it leave) stays
		// out: it neither signs nor is published.
		now, metas := m.now(), slices.Concat(next.Metas(), stored.Metas())
		for _, k := range stored.Keys {
			_, left := m.departed[k.KID]
			if _, ok := next.Find(k.KID); !ok && !left && !slices.Contains(w.back, k.KID) && !expiredAt(now, k.Meta, metas, m.policy) {
				next.Keys = append(next.Keys, k)
			}
		}
	}
	next.Revoked = withRevocations(m.inForce.Revoked, slices.Concat(stored.Revoked, withdrawnRevoked(stored.Withdrawn, m.now()))...)
	next.Keys = slices.DeleteFunc(next.Keys, func(k Key) bool {
		return slices.ContainsFunc(next.Revoked, func(r Revocation) bool { return r.KID == k.KID })
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
	m.noteRewritten(w.left)
	return next, true, nil
}

// noteRewritten records kids as written back into a stored set that left them out. Guarded by
// sem.
func (m *Manager) noteRewritten(kids []string) {
	for _, kid := range kids {
		if m.rewritten == nil {
			m.rewritten = map[string]struct{}{}
		}
		m.rewritten[kid] = struct{}{}
	}
}
