package catalog

import (
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// writtenBack describes lost, written back on snap by a replica whose catalog in force was
// built from had, for a WriteBackLog: each object's change, a tombstone as a deletion, filed
// where the admin API files it (see filedAt) in after, the catalog once they are written back,
// leaving out the record of the file as seen and the records of subject templates (see
// heldTemplates) and of identities attached for write (see writerRecord).
func writtenBack(snap Snapshot, had Head, lost []Change, after *Catalog) WriteBack {
	wb := WriteBack{Revision: snap.Revision, Had: had.Revision, Index: after}
	stored := make(map[Ref][]byte, len(lost))
	for _, r := range snap.Records {
		stored[r.Ref] = r.Body
	}
	for _, ch := range lost {
		if ch.Ref == seenRef || ch.Ref.Kind == kindTemplate || ch.Ref.Kind == kindWriter {
			continue
		}
		var before any // the object as the store holds it now, if it does
		if body, ok := stored[ch.Ref]; ok {
			if _, gone := readTombstone(body); !gone {
				before, _ = decodeObject(ch.Ref.Kind, body)
			}
		}
		_, deleted := readTombstone(ch.Body)
		p := filedAt(ch, before, after)
		wb.Changes = append(wb.Changes, WrittenBack{Ref: ch.Ref, Deleted: deleted, Version: ch.Version,
			Space: p.Space, Stack: p.Stack, Integration: p.Integration, Also: p.Also})
	}
	return wb
}

// filedAt is where the event of the change ch, written back, is filed, so that the auditors who
// see the admin API's event of that change see it too. before is the object as the store holds
// it now (nil when it holds none), and after the catalog once the changes are written back:
//   - a put, or a deletion of an object the store still holds, as the admin API files it (see
//     ChangePlace);
//   - a deletion of an object the store no longer holds: a stack's under the space its
//     tombstone keeps, a space's under its own id and its parent, an attachment's under its
//     stack's space; root when none is known (the tombstone of an integration or an API key
//     keeps no place).
func filedAt(ch Change, before any, after *Catalog) EventPlace {
	place, deleted := readTombstone(ch.Body)
	if !deleted {
		obj, err := decodeObject(ch.Ref.Kind, ch.Body)
		if err != nil {
			return EventPlace{Space: config.RootSpace}
		}
		return ChangePlace(before, obj, after)
	}
	var p EventPlace
	switch {
	case before != nil:
		p = ChangePlace(before, nil, after)
	default:
		p = EventPlace{Space: config.RootSpace}
		switch ch.Ref.Kind {
		case KindStack:
			p.Stack = ch.Ref.ID
			if place != "" {
				p.Space = place
			}
		case KindSpace:
			p.Space = ch.Ref.ID
			p.also(place)
		case KindIntegration:
			p.Integration = ch.Ref.ID
		case KindAttachment:
			p.Stack, p.Integration, _ = strings.Cut(ch.Ref.ID, "/")
			if s, ok := stackSpaceIn(after, p.Stack); ok {
				p.Space = s
			}
		}
	}
	return p
}

// stackSpaceIn is stack's space in c (false when c is nil or lacks it).
func stackSpaceIn(c *Catalog, stack string) (string, bool) {
	if c == nil {
		return "", false
	}
	return c.StackSpace(stack)
}
