package catalog

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// tombstoneFrom starts the body of a tombstone that knows the place its object left: the
// stack's space, or the space's parent. An object's body is JSON and starts with "{"; an empty
// body is a tombstone that does not know.
const tombstoneFrom = "from:"

// tombstoneBody is the body of a tombstone of an object that left place ("" when it has none).
func tombstoneBody(place string) []byte {
	if place == "" {
		return []byte{}
	}
	return []byte(tombstoneFrom + place)
}

// readTombstone reports whether body is a tombstone's, and the place it names ("" if none).
func readTombstone(body []byte) (place string, tombstone bool) {
	if len(body) == 0 {
		return "", true
	}
	if rest, ok := bytes.CutPrefix(body, []byte(tombstoneFrom)); ok {
		return string(rest), true
	}
	return "", false
}

// placeOf is where obj sits in the tree: a stack's space, a space's parent; "" for the other
// kinds, whose ids name nothing a cloud trusts.
func placeOf(obj any) string {
	switch o := obj.(type) {
	case config.Stack:
		return o.Space
	case config.Space:
		return o.Parent
	}
	return ""
}

// noteTombstone records in v a tombstone of r read from the store.
func (v *Versioned) noteTombstone(r Ref, version, deleted int64, body []byte) {
	v.Versions[r] = version
	if deleted > 0 {
		v.Deleted[r] = deleted
	}
	place, _ := readTombstone(body)
	if place == "" {
		delete(v.From, r)
		return
	}
	if v.From == nil {
		v.From = map[Ref]string{}
	}
	v.From[r] = place
}

// comesBack refuses obj, created through the API under the id of a deleted stack or space,
// anywhere but the place that object left. The cloud trust policies written for a stack name
// its id (an AWS ExternalId names no space at all, and a subject template need not), and
// those written for a space's stacks name the space's id: given again elsewhere, the id would
// take the old object's access to the clouds to a place whose administrators never had it. A
// tombstone that does not know its place (recorded before tombstones kept it) lets the id come
// back only through the configuration file.
func comesBack(api Versioned, r Ref, obj any) error {
	if r.Kind != KindStack && r.Kind != KindSpace {
		return nil
	}
	if _, gone := api.Versions[r]; !gone {
		return nil
	}
	noun, where := kindNoun[r.Kind], "space"
	if r.Kind == KindSpace {
		where = "parent"
	}
	old, ok := api.From[r]
	switch {
	case !ok:
		return refusal(ErrConflict,
			"%s id %q belonged to a %s that was deleted; the cloud trust policies written for it would admit this one, so choose another id (or declare it in the configuration file)",
			noun, r.ID, noun)
	case old != placeOf(obj):
		// The place is told to the log only: the caller may hold no binding on it.
		return &ChangeError{Kind: ErrConflict, Messages: []string{fmt.Sprintf(
			"%s id %q belonged to a %s deleted from another %s; the cloud trust policies written for it would admit this one, so the id comes back only where it was: choose another id",
			noun, r.ID, noun, where)},
			Withheld: []string{fmt.Sprintf("%s %q was deleted from %s %q", noun, r.ID, where, old)}}
	}
	return nil
}

// forgetPlaces turns the tombstones in next whose place is space id or a space of its subtree
// (in cur before id moves, with the spaces deleted from it: see placesTree) into tombstones
// that do not know their place, and returns their changes. The place a tombstone keeps is a
// space id: once that space has moved, the same id names another line of administration,
// whose keys may hold the run rights the deleted object's administrators never gave them; so
// its deleted ids come back only through the configuration file, as those of a tombstone that
// never knew its place.
func forgetPlaces(cur *Catalog, next *Versioned, id string) []Change {
	live := make(map[string]string, len(cur.spaces))
	for sid, sp := range cur.spaces {
		live[sid] = sp.Parent
	}
	parents, moved := placesTree(live, next.From), map[string]bool{id: true}
	var out []Change
	for _, r := range slices.SortedFunc(maps.Keys(next.From), func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	}) {
		if r.Kind != KindStack && r.Kind != KindSpace {
			continue // a template's record keeps no place
		}
		if !lyingUnder(parents, moved, next.From[r]) {
			continue
		}
		ch := forgetting(*next, r)
		next.noteTombstone(r, ch.Version, ch.Created, ch.Body)
		out = append(out, ch)
	}
	return out
}

// forgetting is the change that turns the tombstone of r in v into one that does not know its
// place: its next version, deleted when it was, with an empty body.
func forgetting(v Versioned, r Ref) Change {
	return Change{Record: Record{Ref: r, Version: v.Versions[r] + 1, Created: v.Deleted[r], Body: tombstoneBody("")}}
}

// forgetFileMoves is forgetPlaces for the moves the configuration file makes: the changes that
// turn each tombstone of api whose place lies, in the tree as seen records it (with api's own
// spaces in it, and the spaces deleted from it: see placesTree), at or under a file space that
// next puts under another parent or leaves out, into one that does not know its place. A
// reload and a start (see fileChanges, Manager.startChanges) record them, so that a space the
// file moves lets its deleted ids back only through the file, as a move through the API does.
// It leaves out the ids next holds (a live object's id is its own) and those in skip (a
// tombstone recorded in the same commit).
func forgetFileMoves(seen fileSeen, next *Catalog, api Versioned, skip map[Ref]bool) []Change {
	parents, moved := fileMoves(seen, next, api)
	if len(moved) == 0 {
		return nil
	}
	var out []Change
	for _, r := range slices.SortedFunc(maps.Keys(api.From), func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	}) {
		if (r.Kind != KindStack && r.Kind != KindSpace) || skip[r] || next.holds(r) || !lyingUnder(parents, moved, api.From[r]) {
			continue
		}
		out = append(out, forgetting(api, r))
	}
	return out
}

// fileMoves returns the spaces whose place the file changes (moved): the file spaces next puts
// under another parent or leaves out, and the spaces deleted through the API that next declares
// under another parent than they had; and the tree, as seen records it with api's own spaces in
// it and the spaces deleted from it (see placesTree), in which a place is looked up against
// them (see lyingUnder). Both are nil when the file moves no space.
func fileMoves(seen fileSeen, next *Catalog, api Versioned) (parents map[string]string, moved map[string]bool) {
	for id, parent := range seen.Spaces {
		// A space gone from the file leaves its place as one moved does: declared again, it is
		// a new space (see fileChanges), wherever it stands.
		if s, ok := next.spaces[id]; !ok || s.Parent != parent {
			if moved == nil {
				moved = map[string]bool{}
			}
			moved[id] = true
		}
	}
	for id, s := range next.spaces {
		// A space deleted through the API that the file now declares under another parent
		// stands in another line of administration, as a moved one does.
		_, inFile := seen.Spaces[id]
		if place, gone := api.From[Ref{Kind: KindSpace, ID: id}]; !inFile && gone && place != s.Parent {
			if moved == nil {
				moved = map[string]bool{}
			}
			moved[id] = true
		}
	}
	if len(moved) == 0 {
		return nil, nil
	}
	live := maps.Clone(seen.Spaces)
	if live == nil {
		live = map[string]string{}
	}
	for _, sp := range api.Objects.Spaces {
		live[sp.ID] = sp.Parent
	}
	return placesTree(live, api.From), moved
}

// placesTree is the tree in which a tombstone's place is looked up: live, which maps each space
// that exists to its parent, with each space deleted from a known place (in from) added to it
// under that place. A stack deleted from a space that was deleted after it lies where that space
// lay, so a move above that place forgets the stack's place too: were the space declared
// again, the stack's id would otherwise come back in it through the API.
func placesTree(live map[string]string, from map[Ref]string) map[string]string {
	for r, place := range from {
		if _, ok := live[r.ID]; r.Kind == KindSpace && !ok {
			live[r.ID] = place
		}
	}
	return live
}

// lyingUnder reports whether space is one of moved or lies below one in the tree parents (see
// placesTree). A space whose place is not known (deleted before tombstones kept places) counts
// as below: the ids deleted from it may lie anywhere, so they come back only through the
// configuration file. A parent cycle (a record the file never
// made) ends the walk after as many steps as there are spaces.
func lyingUnder(parents map[string]string, moved map[string]bool, space string) bool {
	for range len(parents) + 1 {
		if moved[space] {
			return true
		}
		parent, ok := parents[space]
		switch {
		case !ok:
			return true
		case parent == "":
			return false
		}
		space = parent
	}
	return false
}

// holds reports whether c has the stack or space r.
func (c *Catalog) holds(r Ref) bool {
	var ok bool
	switch r.Kind {
	case KindStack:
		_, ok = c.stacks[r.ID]
	case KindSpace:
		_, ok = c.spaces[r.ID]
	}
	return ok
}
