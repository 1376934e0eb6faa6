package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// narrowingFirst orders objects so that no step of the apply grants what neither the broker
// before it nor the file grants, and marks the objects whose narrowed form (o.narrowed) the
// apply puts before anything else: an integration without the write the file drops (all of it
// when the file moves it), a stack without the labels the file drops (all of them when the file
// moves it), a role without the actions the file drops. A role that gains actions goes last, as
// one widened before a space leaves a key's binding would cover that space meanwhile. A space the
// file makes inherit goes after the stacks and integrations, so that what the file moves out of
// it, or away from it, is gone first. A stack or space leaving a space the file moves or changes
// goes before the other spaces, when where it goes is a chain of spaces the file leaves alone.
// Some files have no safe order (a stack moving between two spaces the file both moves); each
// step still only narrows the broker's objects or puts the file's.
func narrowingFirst(ctx context.Context, c *adminClient, objects []applyObject) []applyObject {
	var rest, late, roles, moved []applyObject
	moves := spaceMoves{c: c, changed: spacesChanged(ctx, c, objects)}
	for _, o := range objects {
		switch d := o.desired.(type) {
		case config.Role:
			// Its actions taken away first and, when it gains some, last: no object of the
			// file refers to a role, and a role widened before a space leaves a key's binding
			// would cover it.
			var widens bool
			if o.narrowed, widens = roleChange(ctx, c, d); widens {
				roles = append(roles, o)
				continue
			}
		case config.Integration:
			o.narrowed = dropsWrite(ctx, c, d)
		case config.Stack:
			o.narrowed = dropsLabels(ctx, c, d)
			if moves.stackLeavesFirst(ctx, d) {
				// Before the spaces: the space it leaves may be moved under another's
				// bindings, and the one it joins stays where it is.
				moved = append(moved, o)
				continue
			}
		case config.Space:
			if moves.spaceLeavesFirst(ctx, d) {
				// Before the other spaces: the space it leaves moves or changes, and the one it
				// joins stays where it is.
				moved = append(moved, o)
				continue
			}
			if turnsInheritOn(ctx, c, d) {
				// After the stacks and integrations: a stack or space the file moves out
				// of it, or an integration it moves away, is gone from under it first.
				late = append(late, o)
				continue
			}
		}
		rest = append(rest, o)
	}
	at := slices.IndexFunc(rest, func(o applyObject) bool {
		_, ok := o.desired.(config.Attachment)
		return ok
	})
	if at < 0 {
		at = len(rest)
	}
	rest = slices.Concat(rest[:at], late, rest[at:], roles)
	first := slices.IndexFunc(rest, func(o applyObject) bool {
		_, ok := o.desired.(config.Space)
		return ok
	})
	if first < 0 {
		first = len(rest)
	}
	return slices.Concat(rest[:first], moved, rest[first:])
}

// spacesChanged is the set of the file's spaces that the broker holds with another parent or
// inherit, or does not hold.
func spacesChanged(ctx context.Context, c *adminClient, objects []applyObject) map[string]bool {
	out := map[string]bool{}
	for _, o := range objects {
		sp, ok := o.desired.(config.Space)
		if !ok {
			continue
		}
		raw, err := c.getField(ctx, kindSpace.path+"/"+url.PathEscape(sp.ID), kindSpace.one)
		cur, _, derr := decodeServed[config.Space](raw)
		if err != nil || derr != nil || cur.Parent != sp.Parent || cur.Inherit != sp.Inherit {
			out[sp.ID] = true
		}
	}
	return out
}

// spaceMoves reads where the broker holds the objects of a file whose spaces in changed the
// broker holds with another parent or inherit, or does not hold (spacesChanged).
type spaceMoves struct {
	c       *adminClient
	changed map[string]bool
}

// stackLeavesFirst reports whether the broker holds st's stack in another space than st's, and
// holds st's space and its ancestors with none of them changed.
func (m spaceMoves) stackLeavesFirst(ctx context.Context, st config.Stack) bool {
	raw, err := m.c.getField(ctx, kindStack.path+"/"+url.PathEscape(st.ID), kindStack.one)
	if err != nil {
		return false
	}
	cur, _, err := decodeServed[config.Stack](raw)
	return err == nil && cur.Space != st.Space && m.chainKept(ctx, st.Space)
}

// spaceLeavesFirst reports whether the broker holds sp's space under a changed parent other
// than sp's, and holds sp's parent and its ancestors with none of them changed, nor sp turning
// inherit on.
func (m spaceMoves) spaceLeavesFirst(ctx context.Context, sp config.Space) bool {
	raw, err := m.c.getField(ctx, kindSpace.path+"/"+url.PathEscape(sp.ID), kindSpace.one)
	if err != nil {
		return false
	}
	cur, _, err := decodeServed[config.Space](raw)
	return err == nil && cur.Parent != sp.Parent && m.changed[cur.Parent] && (cur.Inherit || !sp.Inherit) &&
		m.chainKept(ctx, sp.Parent)
}

// chainKept reports whether the broker holds space id and its ancestors with none changed.
func (m spaceMoves) chainKept(ctx context.Context, id string) bool {
	c, changed := m.c, m.changed
	for range config.MaxSpaceDepth + 1 {
		if changed[id] {
			return false
		}
		raw, err := c.getField(ctx, kindSpace.path+"/"+url.PathEscape(id), kindSpace.one)
		if err != nil {
			return false
		}
		sp, _, err := decodeServed[config.Space](raw)
		if err != nil {
			return false
		}
		if sp.Parent == "" {
			return true
		}
		id = sp.Parent
	}
	return false
}

// roleChange returns, when the broker holds r's role with an action r lacks, the broker's
// role with only those actions taken away, with the version read; and whether the broker holds
// the role without an action r gives.
func roleChange(ctx context.Context, c *adminClient, r config.Role) (*narrowStep, bool) {
	raw, err := c.getField(ctx, kindRole.path+"/"+url.PathEscape(r.ID), kindRole.one)
	if err != nil {
		return nil, false
	}
	cur, m, err := decodeServed[config.Role](raw)
	if err != nil {
		return nil, false
	}
	widens := slices.ContainsFunc(r.Actions, func(a string) bool {
		return !slices.Contains(cur.Actions, a)
	})
	kept := slices.DeleteFunc(slices.Clone(cur.Actions), func(a string) bool {
		return !slices.Contains(r.Actions, a)
	})
	if len(kept) == len(cur.Actions) || len(kept) == 0 { // a role needs an action
		return nil, widens
	}
	cur.ID, cur.Actions = r.ID, kept
	return &narrowStep{body: cur, version: m.Version}, widens
}

// turnsInheritOn reports whether the broker holds sp's space without inherit and sp has it.
func turnsInheritOn(ctx context.Context, c *adminClient, sp config.Space) bool {
	raw, err := c.getField(ctx, kindSpace.path+"/"+url.PathEscape(sp.ID), kindSpace.one)
	if err != nil {
		return false
	}
	cur, _, err := decodeServed[config.Space](raw)
	return err == nil && !cur.Inherit && sp.Inherit
}

// dropsWrite returns, when the broker holds in's integration in in's space with write on a
// label in does not attach for write, the broker's integration with write taken away from
// those labels and nothing else changed, with the version read; nil otherwise.
func dropsWrite(ctx context.Context, c *adminClient, in config.Integration) *narrowStep {
	raw, err := c.getField(ctx, kindIntegration.path+"/"+url.PathEscape(in.ID), kindIntegration.one)
	if err != nil {
		return nil
	}
	cur, m, err := decodeServed[config.Integration](raw)
	if err != nil {
		return nil
	}
	want := writeLabels(in)
	if cur.Space != in.Space {
		want = nil // moved: it reaches other stacks, so all its write goes until it is put
	}
	cur.ID = in.ID
	var rules []config.Autoattach
	dropped := false
	for _, r := range cur.Autoattach {
		if r.Write && !want[r.Label] {
			r.Write, dropped = false, true
		}
		if r.Read || r.Write { // a rule attaching neither is refused: it goes
			rules = append(rules, r)
		}
	}
	if !dropped {
		return nil
	}
	cur.Autoattach = rules
	return &narrowStep{body: cur, version: m.Version}
}

// narrowStep is an object with only write (an integration's) or labels (a stack's) taken
// away, and the version it is put over.
type narrowStep struct {
	body    any
	version int64
}

// narrow puts o.narrowed: it takes attachments away and adds none, so no conflict refuses it,
// and no stack the spaces and stacks applied next label or let inherit is attached for write
// by a rule or a label the file drops.
func (a *applier) narrow(ctx context.Context, o applyObject) error {
	want, err := canonical(o.narrowed.body)
	if err != nil {
		return err
	}
	_, err = a.client.call(ctx, adminRequest{method: http.MethodPut, path: o.path, body: want, ifMatch: o.narrowed.version})
	return err
}

// dropsLabels returns, when the broker holds st's stack in st's space with a label st does not
// carry, the broker's stack with only those labels taken away, with the version read.
func dropsLabels(ctx context.Context, c *adminClient, st config.Stack) *narrowStep {
	raw, err := c.getField(ctx, kindStack.path+"/"+url.PathEscape(st.ID), kindStack.one)
	if err != nil {
		return nil
	}
	cur, m, err := decodeServed[config.Stack](raw)
	if err != nil {
		return nil
	}
	kept := slices.DeleteFunc(slices.Clone(cur.Labels), func(l string) bool {
		// Moved: it may use other integrations, so every label goes until it is put.
		return cur.Space != st.Space || !slices.Contains(st.Labels, l)
	})
	if len(kept) == len(cur.Labels) {
		return nil
	}
	cur.ID, cur.Labels = st.ID, kept
	return &narrowStep{body: cur, version: m.Version}
}

// writeLabels is the set of labels in's autoattach rules attach for write.
func writeLabels(in config.Integration) map[string]bool {
	out := map[string]bool{}
	for _, r := range in.Autoattach {
		if r.Write {
			out[r.Label] = true
		}
	}
	return out
}
