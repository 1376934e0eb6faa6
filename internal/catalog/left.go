package catalog

import (
	"cmp"
	"maps"
	"slices"
)

// fileChanges returns the records that keep in the store, for every replica and for good, what
// a reload from oldFile to newFile (next is the catalog built on newFile) changes of the file's
// objects:
//
//   - A tombstone for each file stack that leaves its place (removed, or moved to another
//     space) and each file space that leaves its place (removed, or moved to another parent).
//     A replica's own memory of such a leave (see Manager.ended) is lost with a restart and
//     never reaches the other replicas, yet it is what keeps the runs of a stack (or of a
//     space's stacks) that left ended when its id comes back, and the audit events of a space
//     that left out of the listing of a new space under its id: the tombstone's time counts
//     as the id's creation wherever the file declares it again (see Build). Every replica
//     that reloads records the leaves it sees, also one another replica recorded before: the later tombstone also ends the runs started meanwhile on a replica
//     that still had the old file (and, for a moved stack, those started in its new place
//     before the last replica's reload), which is the restrictive reading.
//   - A version record for each file object whose body changes and that stays: a tombstone
//     record that keeps the id's leaving time (Created) and raises its Version, so that the
//     object's version, shown as its ETag, grows with each change on every replica and across
//     restarts (see Build, versionRaises).
//   - A record forgetting the place of each tombstone at or under a file space that moves or
//     leaves, so that its deleted ids come back only through the file (see forgetFileMoves).
//
// The record of the file as seen (see fileSeen) is seenChange's.
func fileChanges(next *Catalog, oldFile, newFile Objects, api Versioned, now int64) []Change {
	seen := seenOf(oldFile)
	out, left := leaves(seen, next, api, now)
	out = append(out, versionRaises(seen, newFile, left, api)...)
	out = append(out, forgetFileMoves(seen, next, api, left)...)
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Ref.Kind, b.Ref.Kind), cmp.Compare(a.Ref.ID, b.Ref.ID))
	})
	return out
}

// versionRaises returns the version record of each object of file that changed since seen (see
// fileSeen.changed) and stays: not one that left (its tombstone, recorded, raises its version
// already) nor one whose id the store holds an API object under (that object's version is the
// id's). The record keeps the id's leaving time (Created) and raises its Version (see
// fileVersion). A reload (fileChanges) and a start (Manager.startChanges) both record these.
func versionRaises(seen fileSeen, file Objects, left map[Ref]bool, api Versioned) []Change {
	digests := seenOf(file).Digests
	var out []Change
	file.each(func(r Ref) {
		if left[r] || !seen.changed(r, digests[r.String()]) || api.Objects.find(r) != nil {
			return
		}
		out = append(out, Change{Record: Record{Ref: r, Version: fileVersion(api, r) + 1, Created: api.Deleted[r], Body: []byte{}}})
	})
	return out
}

// fileVersion is the version of the file's object r: the version its id's records in the store
// reached (a leaving, a change, an API object deleted before), at least 1.
func fileVersion(api Versioned, r Ref) int64 {
	return max(1, api.Versions[r])
}

// withTombstones returns v with the tombstones of changes recorded, v itself unchanged.
func (v Versioned) withTombstones(changes []Change) Versioned {
	v.Versions, v.Deleted, v.From = maps.Clone(v.Versions), maps.Clone(v.Deleted), maps.Clone(v.From)
	if v.Versions == nil {
		v.Versions = map[Ref]int64{}
	}
	if v.Deleted == nil {
		v.Deleted = map[Ref]int64{}
	}
	for _, ch := range changes {
		if ch.Ref == seenRef {
			if seen, err := decodeSeen(ch.Body); err == nil {
				v.seen, v.seenVersion, v.seenAt = &seen, ch.Version, ch.Created
			}
			continue
		}
		v.noteTombstone(ch.Ref, ch.Version, ch.Created, ch.Body) // as decodeRecords reads it
	}
	return v
}
