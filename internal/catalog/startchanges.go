package catalog

import (
	"slices"
	"strings"
)

// startChanges returns the records this replica, starting on its file, writes to the store, c
// being the catalog built on it and api the store: the tombstones of what left the file as the
// store last saw it (see fileSeen), a version raise for each file object that changed since (see
// versionRaises), as a reload records them, and the record of the file as seen. It also names
// ("kind id") the objects whose leaving it records, those whose version it raises, those
// that entered the file since the record (see addedSince) and those of other kinds that left
// it (see removedSince), which only the record's change records. A leave
// some replica recorded after the record was written (a tombstone strictly newer: one written
// with the record is in it already) is not recorded again: a replica of a release that keeps no
// such record (during a rolling upgrade) records the leaves of its reloads, and its stack's runs
// started since in the new place would end. A record without digests (written by a release
// that kept none) shows no object as changed.
func (m *Manager) startChanges(c *Catalog, api Versioned) (out []Change, names StartChange) {
	now := m.now().UnixMilli()
	if api.seen != nil {
		var gone map[Ref]bool
		out, gone = leaves(*api.seen, c, api, now)
		out = slices.DeleteFunc(out, func(ch Change) bool {
			at, ok := api.Deleted[ch.Ref]
			return ok && api.seenAt > 0 && at > api.seenAt
		})
		for _, ch := range out {
			names.Left = append(names.Left, ch.Ref.String())
		}
		raises := versionRaises(*api.seen, m.file, gone, api)
		for _, ch := range raises {
			names.Changed = append(names.Changed, ch.Ref.String())
		}
		out = append(out, raises...)
		// Not filtered as the leaves are: a tombstone an API deletion recorded after the
		// record of the file as seen was written is forgotten too.
		out = append(out, forgetFileMoves(*api.seen, c, api, gone)...)
		names.Added = addedSince(*api.seen, m.file)
		names.Removed = removedSince(*api.seen, m.file)
	}
	// The templates the file brings are recorded (see heldTemplates); those that left it while
	// no replica ran were recorded when they were in force, unless that was before the records.
	warnFileOverlaps(m.log, heldTemplates(api), m.file)
	out = append(out, templateRecords(api, now, c)...)
	out = append(out, writerRecords(api, now, c)...)
	return append(out, seenChange(api, m.file, now)...), names
}

// removedSince names ("kind id", sorted) the objects seen's digests hold that file no longer
// does, of the kinds whose leaving leaves no tombstone (integrations, attachments, roles):
// stacks, spaces and API keys that left are named by leaves. A record written before digests
// were kept names none.
func removedSince(seen fileSeen, file Objects) []string {
	present := map[string]bool{}
	file.each(func(r Ref) { present[r.String()] = true })
	var out []string
	for name := range seen.Digests {
		kind, _, _ := strings.Cut(name, " ")
		switch Kind(kind) {
		case KindStack, KindSpace, KindAPIKey:
			continue
		}
		if !present[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// addedSince names ("kind id") the objects of file that seen does not hold: by their digests,
// or, in a record written before digests were kept, by the stacks, spaces and API keys it
// lists (other kinds cannot be told then).
func addedSince(seen fileSeen, file Objects) []string {
	var out []string
	file.each(func(r Ref) {
		var known bool
		switch {
		case len(seen.Digests) > 0:
			_, known = seen.Digests[r.String()]
		case r.Kind == KindStack:
			_, known = seen.Stacks[r.ID]
		case r.Kind == KindSpace:
			_, known = seen.Spaces[r.ID]
		case r.Kind == KindAPIKey:
			_, known = seen.APIKeys[r.ID]
		default:
			known = true
		}
		if !known {
			out = append(out, r.String())
		}
	})
	return out
}
