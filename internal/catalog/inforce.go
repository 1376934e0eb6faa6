package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// A change is checked against the objects in force, not against every stored one: an object
// the catalog in force leaves out (see buildFitting), stored by an older release before a rule
// that refuses it, say, neither makes an unrelated change fail nor is named by a refusal, and
// is never in force through a change. The object a change puts replaces the one stored under
// its id, left out or not, and a deletion removes it all the same: that is how an operator
// repairs a store holding such objects. A stored object left out of force can be replaced
// through the API only by a key with space:admin on root, and a change by any other key that
// would bring a left-out object back into force is refused (409): see
// Mutation.AuthorizeLeftOut.

// inForceOnly returns objs less each object of api, the store's objects, that inForce, the
// API objects of the catalog in force, leaves out; but for the object under changed, whose
// change replaces or removes the stored one. inForce holds a part of api.
func inForceOnly(objs Objects, api, inForce Versioned, changed Ref) Objects {
	if api.Len() == inForce.Len() {
		return objs
	}
	held := refSet(inForce.Objects)
	api.each(func(r Ref) {
		if r != changed && !held[r] {
			objs = objs.without(r)
		}
	})
	return objs
}

// settled returns the catalog in force after a change and the API objects it holds. c is the
// catalog built on checked, the objects in force with the change applied; in is the store's
// objects after the change. When the store holds objects left out, the catalog is the one
// buildFitting's rule builds on in (an object left out comes back once it fits, as on every
// replica that loads the store), and a change after which it would leave out an object of
// checked (the change's own, or one in force, pushed out by an object left out) is refused.
func settled(in, checked Input, c *Catalog) (*Catalog, Versioned, error) {
	if in.API.Len() == checked.API.Len() {
		return c, checked.API, nil
	}
	fitted, kept, err := leaveOut(in, checked.API, func(Ref, string) {})
	held := refSet(kept.Objects)
	var out []string
	checked.API.each(func(r Ref) {
		if !held[r] {
			out = append(out, fmt.Sprintf("%s %q", kindNoun[r.Kind], r.ID))
		}
	})
	if err == nil && len(out) == 0 {
		return fitted, kept, nil
	}
	const repair = "stored objects the catalog leaves out already (see the broker's log); replace those with valid objects under their ids first"
	if len(out) == 0 {
		return nil, Versioned{}, refusal(ErrConflict, "this change does not fit with %s", repair)
	}
	slices.Sort(out)
	return nil, Versioned{}, refusal(ErrConflict, "after this change the catalog in force would leave out %s, for %s",
		strings.Join(out, ", "), repair)
}

// broughtBack lists the API objects of kept, those of the catalog in force after a change
// (see settled), that checked, the objects in force with the change applied, does not hold:
// stored objects left out before the change that it brings back into force.
func broughtBack(kept, checked Versioned) []Ref {
	if kept.Len() == checked.Len() {
		return nil
	}
	held := refSet(checked.Objects)
	var out []Ref
	kept.each(func(r Ref) {
		if !held[r] {
			out = append(out, r)
		}
	})
	return out
}

// backRefused refuses a change that would bring back into force the stored objects back,
// left out until then, for a caller that may not repair the store. The answer names none of
// them (the caller may not read them once in force); Withheld, for the operators, does.
func backRefused(back []Ref) *ChangeError {
	names := make([]string, 0, len(back))
	for _, r := range back {
		names = append(names, fmt.Sprintf("%s %q", kindNoun[r.Kind], r.ID))
	}
	slices.Sort(names)
	return &ChangeError{Kind: ErrConflict,
		Messages: []string{fmt.Sprintf("this change would bring back into force %d stored object(s) the catalog leaves out (see the broker's log); "+
			"only a key with %s on the root space may do that", len(back), config.ActionSpaceAdmin)},
		Withheld: []string{"the change would bring back into force " + strings.Join(names, ", ")}}
}

// refSet is the set of the references of o's objects.
func refSet(o Objects) map[Ref]bool {
	out := make(map[Ref]bool, o.Len())
	o.each(func(r Ref) { out[r] = true })
	return out
}
