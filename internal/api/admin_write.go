package api

import (
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// writeTokenActions are the rights a stack's write-scope token stands for: a key that points
// such tokens somewhere (an attachment for write, an autoattach rule for write, a change to an
// integration attached for write, a move of a stack or space holding a write attachment, direct
// or automatic) must hold both
// on the space, or space:admin alone would collect the tokens of runs it may neither start nor
// move.
var writeTokenActions = []string{config.ActionRunCreate, config.ActionRunUpdate}

// requireWriteRights returns nil when p holds every action of writeTokenActions in each space
// of spaces; a refusal names the space and the actions p lacks there.
func requireWriteRights(c *catalog.Catalog, p access.Principal, spaces []string) error {
	for _, s := range spaces {
		var missing []string
		for _, act := range writeTokenActions {
			if c.Access().Allowed(p, act, s) != nil {
				missing = append(missing, act)
			}
		}
		if len(missing) > 0 {
			return apierror.New(apierror.CodeForbidden,
				"API key %q may not direct write-scope tokens of stacks in space %q without %s there.",
				p.KeyID, s, strings.Join(missing, " and "))
		}
	}
	return nil
}

// integrationWriteSpaces lists the spaces where putting obj as integration id over old (nil
// when none) directs write-scope tokens: its own space when an autoattach rule of obj attaches
// for write, and its old and new space when any stack has old attached for write (directly or
// automatically), as c holds it.
func integrationWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	in := obj.(config.Integration)
	var spaces []string
	add := func(s string) {
		if s = adminSpace(s); !slices.Contains(spaces, s) {
			spaces = append(spaces, s)
		}
	}
	if slices.ContainsFunc(in.Autoattach, func(a config.Autoattach) bool { return a.Write }) {
		add(in.Space)
	}
	if old != nil && attachedForWrite(c, id) {
		add(old.(config.Integration).Space)
		add(in.Space)
	}
	return spaces
}

// attachedForWrite reports whether any stack has integration id attached for write in c.
func attachedForWrite(c *catalog.Catalog, id string) bool {
	for _, st := range c.Objects().Stacks {
		for _, a := range c.Attachments(st.ID) {
			if a.Integration == id && a.Write {
				return true
			}
		}
	}
	return false
}

// stackMoveWriteSpaces lists the space where putting obj as stack id over old moves a write
// attachment: the new space, when the stack holds one (direct or made by an autoattach rule)
// before the move or would after it. A write attachment made where the key holds the run
// rights must not be carried to where it does not, nor a stack brought under a rule attaching
// it for write there.
func stackMoveWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	if old == nil || old.(config.Stack).Space == obj.(config.Stack).Space ||
		!movesWriteAttachment(c, obj, map[string]bool{id: true}) {
		return nil
	}
	return []string{adminSpace(obj.(config.Stack).Space)}
}

// spaceMoveWriteSpaces lists the space where putting obj as space id over old moves write
// attachments: the new parent, when a stack in the space's subtree holds one (direct or made
// by an autoattach rule) before the move or would after it.
func spaceMoveWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	if old == nil || old.(config.Space).Parent == obj.(config.Space).Parent {
		return nil
	}
	stacks := map[string]bool{}
	for _, st := range c.Objects().Stacks {
		if c.Within(st.Space, id) {
			stacks[st.ID] = true
		}
	}
	if !movesWriteAttachment(c, obj, stacks) {
		return nil
	}
	return []string{adminSpace(obj.(config.Space).Parent)}
}

// movesWriteAttachment reports whether a stack of stacks holds an attachment for write, direct
// or made by an autoattach rule, in c as it stands or once obj (a space or a stack) takes the
// place of the object with its id. A move changes no stack's membership of the moved subtree,
// so stacks names the same stacks before and after.
func movesWriteAttachment(c *catalog.Catalog, obj any, stacks map[string]bool) bool {
	for st := range stacks {
		if slices.ContainsFunc(c.Attachments(st), func(a config.EffectiveAttachment) bool { return a.Write }) {
			return true
		}
	}
	if len(stacks) == 0 {
		return false
	}
	return slices.ContainsFunc(changedObjects(c, obj).EffectiveAttachments(), func(a config.EffectiveAttachment) bool {
		return a.Write && stacks[a.Stack]
	})
}

// changedObjects returns the spaces, stacks, integrations and attachments of c with obj (a
// space or a stack) in place of the object with its id, or added when c has none.
func changedObjects(c *catalog.Catalog, obj any) *config.Config {
	o := c.Objects()
	after := &config.Config{Spaces: o.Spaces, Stacks: o.Stacks, Integrations: o.Integrations, Attachments: o.Attachments}
	switch v := obj.(type) {
	case config.Space:
		after.Spaces = replaced(o.Spaces, v, func(s config.Space) bool { return s.ID == v.ID })
	case config.Stack:
		after.Stacks = replaced(o.Stacks, v, func(s config.Stack) bool { return s.ID == v.ID })
	}
	return after
}

// replaced returns a copy of s with x in place of the first element same matches, or appended.
func replaced[T any](s []T, x T, same func(T) bool) []T {
	out := slices.Clone(s)
	if i := slices.IndexFunc(out, same); i >= 0 {
		out[i] = x
		return out
	}
	return append(out, x)
}

// reachMove is a move of an object out of the reach of one space's bindings into another's.
// The zero reachMove moves nothing.
type reachMove struct {
	// from is the space whose bindings reach the object now: a moved space itself (at its
	// current place), or a moved stack's current space.
	from string
	// to is the space whose bindings reach it after the move (bindings cover subtrees): a
	// moved space's new parent, or a moved stack's new space.
	to string
}

// spaceMove is the move putting obj as space over old (nil when none) makes.
func spaceMove(obj, old any) reachMove {
	s := obj.(config.Space)
	if old == nil || adminSpace(old.(config.Space).Parent) == adminSpace(s.Parent) {
		return reachMove{}
	}
	return reachMove{from: s.ID, to: adminSpace(s.Parent)}
}

// stackMove is the move putting obj as stack over old (nil when none) makes.
func stackMove(obj, old any) reachMove {
	s := obj.(config.Stack)
	if old == nil || adminSpace(old.(config.Stack).Space) == adminSpace(s.Space) {
		return reachMove{}
	}
	return reachMove{from: adminSpace(old.(config.Stack).Space), to: adminSpace(s.Space)}
}

// requireNoWiderReach returns nil when m does not widen p's own reach: p holds in m.from every
// action it holds in m.to. Otherwise a key could move an object under a space where it holds
// more (run rights, say) and act on it there, or hand those rights to another key bound on the
// object, which keeps them when the object is moved back. A refusal names the actions p lacks
// and the space where it lacks them, when p may read that space.
func requireNoWiderReach(c *catalog.Catalog, p access.Principal, m reachMove) error {
	if m.to == "" {
		return nil
	}
	var missing []string
	for _, act := range config.Actions {
		if c.Access().Allowed(p, act, m.to) == nil && c.Access().Allowed(p, act, m.from) != nil {
			missing = append(missing, act)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !c.Access().Covers(p, m.from) || !c.Access().Covers(p, m.to) {
		return apierror.New(apierror.CodeForbidden,
			"API key %q may not make a move that widens its own reach: it lacks %s where the object is now.",
			p.KeyID, strings.Join(missing, ", "))
	}
	return apierror.New(apierror.CodeForbidden,
		"API key %q may not make a move that widens its own reach: it holds %s in space %q but not in space %q, where the object is now.",
		p.KeyID, strings.Join(missing, ", "), m.to, m.from)
}
