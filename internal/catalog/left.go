package catalog

import (
	"cmp"
	"maps"
	"slices"
)

// leftFile returns the tombstones that record in the store, for every replica and for good,
// the file's stacks that leave their place (removed, or moved to another space) and the file's
// spaces that leave, when next replaces old. A replica's own memory of such a leave (see
// Manager.ended) is lost with a restart and never reaches the other replicas, yet it is what
// keeps the runs of a stack that left ended when its id comes back, and the audit events of a
// space that left out of the listing of a new space under its id: the tombstone's time counts
// as the id's creation wherever the file declares it again (see Build). A tombstone already
// newer than the object's creation was written by another replica for the same leave.
func leftFile(old, next *Catalog, api Versioned, now int64) []Change {
	var out []Change
	add := func(r Ref) {
		m := old.meta[r]
		if m.ManagedBy != ManagedByConfig {
			return
		}
		if d, ok := api.Deleted[r]; ok && !m.Created.IsZero() && d >= m.Created.UnixMilli() {
			return
		}
		out = append(out, Change{Record: Record{Ref: r, Version: api.Versions[r] + 1, Created: now, Body: []byte{}}})
	}
	for id, st := range old.stacks {
		if space, ok := next.StackSpace(id); !ok || space != st.Space {
			add(Ref{Kind: KindStack, ID: id})
		}
	}
	for id := range old.spaces {
		if _, ok := next.spaces[id]; !ok {
			add(Ref{Kind: KindSpace, ID: id})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Ref.Kind, b.Ref.Kind), cmp.Compare(a.Ref.ID, b.Ref.ID))
	})
	return out
}

// withTombstones returns v with the tombstones of changes recorded, v itself unchanged.
func (v Versioned) withTombstones(changes []Change) Versioned {
	v.Versions, v.Deleted = maps.Clone(v.Versions), maps.Clone(v.Deleted)
	if v.Versions == nil {
		v.Versions = map[Ref]int64{}
	}
	if v.Deleted == nil {
		v.Deleted = map[Ref]int64{}
	}
	for _, ch := range changes {
		v.Versions[ch.Ref], v.Deleted[ch.Ref] = ch.Version, ch.Created
	}
	return v
}
