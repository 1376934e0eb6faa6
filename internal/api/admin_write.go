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
// integration attached for write, a move of a stack holding a write attachment) must hold both
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

// stackMoveWriteSpaces lists the space where putting obj as stack id over old moves a direct
// write attachment: the new space, when the stack moves there holding one. A write attachment
// made where the key holds the run rights must not be carried to where it does not.
func stackMoveWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	if old == nil || old.(config.Stack).Space == obj.(config.Stack).Space || !directWrite(c, id) {
		return nil
	}
	return []string{adminSpace(obj.(config.Stack).Space)}
}

// spaceMoveWriteSpaces lists the space where putting obj as space id over old moves direct
// write attachments: the new parent, when a stack in the space's subtree holds one.
func spaceMoveWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	if old == nil || old.(config.Space).Parent == obj.(config.Space).Parent {
		return nil
	}
	for _, st := range c.Objects().Stacks {
		if c.Within(st.Space, id) && directWrite(c, st.ID) {
			return []string{adminSpace(obj.(config.Space).Parent)}
		}
	}
	return nil
}

// directWrite reports whether stack has an attachment for write of its own (not autoattach,
// whose rule needed the run rights where it attaches) in c.
func directWrite(c *catalog.Catalog, stack string) bool {
	return slices.ContainsFunc(c.Attachments(stack), func(a config.EffectiveAttachment) bool {
		return a.Write && a.Source == config.SourceDirect
	})
}
