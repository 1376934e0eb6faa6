package catalog

import (
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// writtenBack describes lost, written back on snap by a replica whose catalog in force was
// built from had, for a WriteBackLog: each object's change, a tombstone as a deletion, filed
// where the admin API files it (see filedAt) in after, the catalog once they are written back,
// leaving out the record of the file as seen and the records of subject templates (see
// heldTemplates).
func writtenBack(snap Snapshot, had Head, lost []Change, after *Catalog) WriteBack {
	wb := WriteBack{Revision: snap.Revision, Had: had.Revision, Index: after}
	stored := make(map[Ref][]byte, len(lost))
	for _, r := range snap.Records {
		stored[r.Ref] = r.Body
	}
	for _, ch := range lost {
		if ch.Ref == seenRef || ch.Ref.Kind == kindTemplate {
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

// eventPlace is where the event of an object's change is filed: its space (never empty), stack
// and integration, and further spaces whose listings show it.
type eventPlace struct {
	Space, Stack, Integration string
	Also                      []string
}

// also adds space to p.Also, unless p is filed there already.
func (p *eventPlace) also(space string) {
	if space != "" && space != p.Space && !slices.Contains(p.Also, space) {
		p.Also = append(p.Also, space)
	}
}

// homeOf is where the admin API files a change of obj, c placing its spaces: a space under its
// own id; a stack or an integration under its space; an attachment under its stack's space in
// c; an API key under every space it is bound on; anything else (a role) under root.
func homeOf(obj any, c *Catalog) eventPlace {
	p := eventPlace{Space: config.RootSpace}
	switch o := obj.(type) {
	case config.Space:
		p.Space = o.ID
	case config.Stack:
		p.Space, p.Stack = o.Space, o.ID
	case config.Integration:
		p.Space, p.Integration = o.Space, o.ID
	case config.Attachment:
		p.Stack, p.Integration = o.Stack, o.Integration
		if s, ok := stackSpaceIn(c, o.Stack); ok {
			p.Space = s
		}
	case config.APIKey:
		for i, b := range o.Bindings {
			if i == 0 {
				p.Space = b.Space
			}
			p.also(b.Space)
		}
	}
	if p.Space == "" {
		p.Space = config.RootSpace
	}
	return p
}

// leftPlace is the place a change of obj may move it out of: a space's parent, a stack's or an
// integration's space ("" for the other kinds).
func leftPlace(obj any) string {
	switch o := obj.(type) {
	case config.Space:
		return o.Parent
	case config.Stack:
		return o.Space
	case config.Integration:
		return o.Space
	}
	return ""
}

// filedAt is where the event of the change ch, written back, is filed, so that the auditors who
// see the admin API's event of that change see it too. before is the object as the store holds
// it now (nil when it holds none), and after the catalog once the changes are written back:
//   - a put where its object is (see homeOf), and also where before was, when it moves it;
//   - a deletion where before is, when the store still holds it; else a stack's under the space
//     its tombstone keeps, a space's under its own id and its parent, an attachment's under its
//     stack's space; root when none is known (the tombstone of an integration or an API key
//     keeps no place).
func filedAt(ch Change, before any, after *Catalog) eventPlace {
	place, deleted := readTombstone(ch.Body)
	if !deleted {
		obj, err := decodeObject(ch.Ref.Kind, ch.Body)
		if err != nil {
			return eventPlace{Space: config.RootSpace}
		}
		p := homeOf(obj, after)
		if before != nil && leftPlace(before) != leftPlace(obj) {
			p.also(leftPlace(before))
		}
		return p
	}
	var p eventPlace
	switch {
	case before != nil:
		p = homeOf(before, after)
		p.also(leftPlace(before))
	default:
		p = eventPlace{Space: config.RootSpace}
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
