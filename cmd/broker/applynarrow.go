package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// narrowingFirst orders objects so that no step of the apply grants what neither the broker before
// it nor the file grants, and marks the objects whose narrowed form (o.narrowed) the apply puts
// before anything else: an integration without the read or write its autoattach rules give and the
// file drops (all of it when the file moves it), a direct attachment without the read or write the
// file drops, a stack without the labels the file drops (all of them when the file moves it), a
// role without the actions the file drops. When the file takes something away from an object the
// server's file declares, it fails (fileOwned); any other change of one is left to the main pass,
// which refuses it. A stack or space leaving a space the file moves or changes (its parent,
// inherit or subject template) goes first after those roles, when where it goes is a chain of
// spaces the file leaves alone; a space the file makes inherit goes after the stacks and
// integrations, so that what the file moves out of it, or away from it, is gone first; a role that
// gains actions goes last, as one widened before a space leaves a key's binding would cover that
// space meanwhile. It fails, and the apply changes nothing, when it cannot read an object of the
// file (a failure other than 404), and when the file replaces every action of a role and also adds
// anything else (replacedAlone): no order is safe then. Some files still have no safe order (a
// stack moving between two spaces the file both moves); each step then only narrows the broker's
// objects or puts the file's.
func narrowingFirst(ctx context.Context, c *adminClient, objects []applyObject) ([]applyObject, error) {
	r := &planReader{c: c, read: map[string]json.RawMessage{}, fileSpaces: map[string]bool{}}
	for _, o := range objects {
		if sp, ok := o.desired.(config.Space); ok {
			r.fileSpaces[sp.ID] = true
		}
	}
	var rest, late, roles, prep, made, moved, leaving []applyObject
	var replaced []string
	moves := spaceMoves{r: r, changed: spacesChanged(ctx, r, objects), fresh: map[string]string{}}
	for _, o := range objects {
		if sp, ok := o.desired.(config.Space); ok {
			if _, _, held := served[config.Space](ctx, r, kindSpace, sp.ID); !held {
				moves.fresh[sp.ID] = sp.Parent
			}
		}
	}
	moves.own = moves.ownChangedFirst(ctx, objects)
	for _, o := range objects {
		switch d := o.desired.(type) {
		case config.Role:
			// Its actions taken away first and, when it gains some, last: no object of the
			// file refers to a role, and a role widened before a space leaves a key's binding
			// would cover it.
			ch := roleChange(ctx, r, d)
			o.narrowed = ch.narrowed
			if ch.replaced {
				replaced = append(replaced, o.ref)
			}
			if ch.widens {
				o.stage = stageLast
				roles = append(roles, o)
				continue
			}
		case config.Integration:
			o.narrowed = dropsScope(ctx, r, d)
		case config.Attachment:
			o.narrowed = dropsDirectScope(ctx, r, o, d)
		case config.Stack:
			o.narrowed = dropsLabels(ctx, r, d)
			if moves.stackLeavesFirst(ctx, d) {
				// Before the spaces: the space it leaves may be moved under another's
				// bindings, and the one it joins stays where it is.
				moved = append(moved, o)
				continue
			}
		case config.Space:
			if moves.own[d.ID] {
				// Its own template or inherit turned off, before the stacks moving in.
				prep = append(prep, o)
				continue
			}
			if _, ok := moves.fresh[d.ID]; ok && moves.chainKept(ctx, d.ID) {
				// Made before the moves, so that they may go into it: a new space holds
				// nothing yet, so it grants nothing.
				made = append(made, o)
				continue
			}
			if moves.spaceLeavesFirst(ctx, d) {
				// Before the other spaces: the space it leaves moves or changes, and the one it
				// joins stays where it is. After the stacks leaving it first, which would
				// otherwise go where it goes meanwhile.
				leaving = append(leaving, o)
				continue
			}
			if turnsInheritOn(ctx, r, d) {
				// After the stacks and integrations: a stack or space the file moves out
				// of it, or an integration it moves away, is gone from under it first,
				// also when that move is put again after a conflict.
				o.stage = stageAfterRetries
				late = append(late, o)
				continue
			}
		}
		rest = append(rest, o)
	}
	at := slices.IndexFunc(rest, isAttachment)
	if at < 0 {
		at = len(rest)
	}
	rest = slices.Concat(rest[:at], late, rest[at:])
	// The moves go right after the roles that only lose actions, and before everything else:
	// what a moved stack or space gains where it goes is not yet there.
	first := slices.IndexFunc(rest, func(o applyObject) bool {
		_, ok := o.desired.(config.Role)
		return !ok
	})
	if first < 0 {
		first = len(rest)
	}
	if r.err != nil {
		return nil, r.err
	}
	planned := slices.Concat(rest[:first], prep, made, moved, leaving, rest[first:], roles)
	if len(replaced) > 0 {
		if err := replacedAlone(ctx, r, planned, replaced); err != nil {
			return nil, err
		}
	}
	return planned, nil
}

// planReader reads the broker's objects for narrowingFirst, each once. err is the first
// failure to read other than a 404: what to take away first is then unknown, and the apply
// stops before it changes anything.
type planReader struct {
	c    *adminClient
	read map[string]json.RawMessage
	err  error
	// fileSpaces are the ids of the file's spaces.
	fileSpaces map[string]bool
}

// get returns the broker's object of kind k and id as served, nil when it holds none, reading
// it once.
func (r *planReader) get(ctx context.Context, k adminKind, id string) (json.RawMessage, error) {
	path := k.path + "/" + url.PathEscape(id)
	if raw, seen := r.read[path]; seen {
		return raw, nil
	}
	raw, err := r.c.getField(ctx, path, k.one)
	if isNotFound(err) {
		raw, err = nil, nil
	}
	if err == nil {
		r.read[path] = raw
	}
	return raw, err
}

// served returns the broker's object of kind k and id, and its meta; false when the broker
// holds none or it could not be read, which r.err keeps.
func served[T any](ctx context.Context, r *planReader, k adminKind, id string) (T, meta, bool) {
	var zero T
	raw, err := r.get(ctx, k, id)
	if err == nil && raw == nil {
		return zero, meta{}, false
	}
	obj, m, derr := decodeServed[T](raw)
	if err = cmp.Or(err, derr); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("reading %s %s: %w", k.name, id, err)
		}
		return zero, meta{}, false
	}
	return obj, m, true
}

// spaceChange is how the file changes a space the broker holds, or makes it (parent).
type spaceChange struct {
	// parent: moved or made; inheritOn: inherit turned on (which goes after the moves);
	// inheritOff: turned off; template: another subject template.
	parent, inheritOn, inheritOff, template bool
}

// spacesChanged maps the file's spaces that the broker holds with another parent, inherit or
// subject template, or does not hold, to how.
func spacesChanged(ctx context.Context, r *planReader, objects []applyObject) map[string]spaceChange {
	out := map[string]spaceChange{}
	for _, o := range objects {
		sp, ok := o.desired.(config.Space)
		if !ok {
			continue
		}
		cur, _, held := served[config.Space](ctx, r, kindSpace, sp.ID)
		ch := spaceChange{parent: !held || cur.Parent != sp.Parent,
			inheritOn: held && !cur.Inherit && sp.Inherit, inheritOff: held && cur.Inherit && !sp.Inherit,
			template: held && cur.SubjectTemplate != sp.SubjectTemplate}
		if ch != (spaceChange{}) {
			out[sp.ID] = ch
		}
	}
	return out
}

// spaceMoves reads where the broker holds the objects of a file whose spaces in changed the
// broker holds with another parent, inherit or subject template, or does not hold
// (spacesChanged).
type spaceMoves struct {
	r       *planReader
	changed map[string]spaceChange
	// fresh maps the file's spaces the broker does not hold to their parents.
	fresh map[string]string
	// own are the spaces whose own template or inherit turned off go before the moves.
	own map[string]bool
}

// ownChangedFirst is the set of the file's spaces that a stack of the file moves into, that
// nothing of the file leaves, and whose only changes are their own template or inherit turned
// off: put first, they change no stack moving through them.
func (m spaceMoves) ownChangedFirst(ctx context.Context, objects []applyObject) map[string]bool {
	r, changed := m.r, m.changed
	into, left := map[string]bool{}, map[string]bool{}
	for _, o := range objects {
		switch d := o.desired.(type) {
		case config.Stack:
			if cur, _, held := served[config.Stack](ctx, r, kindStack, d.ID); held && cur.Space != d.Space {
				into[d.Space], left[cur.Space] = true, true
			}
		case config.Space:
			if cur, _, held := served[config.Space](ctx, r, kindSpace, d.ID); held && cur.Parent != d.Parent {
				left[cur.Parent] = true
			}
		}
	}
	// A new template of its own may take a share of the subtree's templates that another space
	// of the file gives up (changing its own, or moving away with one): it then keeps its place.
	freeing := 0
	for id, ch := range changed {
		cur, _, held := served[config.Space](ctx, r, kindSpace, id)
		if ch.template || (held && ch.parent && cur.SubjectTemplate != "") {
			freeing++
		}
	}
	out := map[string]bool{}
	for id, ch := range changed {
		if ch.template && freeing > 1 {
			continue
		}
		if into[id] && !left[id] && !ch.parent && !ch.inheritOn {
			out[id] = true
		}
	}
	return out
}

// stackLeavesFirst reports whether the broker holds st's stack in another space than st's, and
// holds st's space and its ancestors with none of them changed.
func (m spaceMoves) stackLeavesFirst(ctx context.Context, st config.Stack) bool {
	cur, _, held := served[config.Stack](ctx, m.r, kindStack, st.ID)
	return held && cur.Space != st.Space && m.chainKept(ctx, st.Space)
}

// spaceLeavesFirst reports whether the broker holds sp's space under a changed parent other
// than sp's, and holds sp's parent and its ancestors with none of them changed, nor sp turning
// inherit on.
func (m spaceMoves) spaceLeavesFirst(ctx context.Context, sp config.Space) bool {
	cur, _, held := served[config.Space](ctx, m.r, kindSpace, sp.ID)
	return held && cur.Parent != sp.Parent && m.changed[cur.Parent] != (spaceChange{}) && (cur.Inherit || !sp.Inherit) &&
		m.chainKept(ctx, sp.Parent)
}

// chainKept reports whether the broker holds space id and its ancestors with none changed, a
// space the file makes counting as its parent's chain. The parent of a space read, which the
// caller may not read itself (a key bound below it), exists and is not the file's to change: it
// counts as kept. A space that cannot be read at all counts as changed.
func (m spaceMoves) chainKept(ctx context.Context, id string) bool {
	for i := range config.MaxSpaceDepth + 1 {
		if parent, ok := m.fresh[id]; ok {
			id = parent // a space the file makes, under a parent it may keep
			continue
		}
		// What a stack or space moved in meets first: the chain's parents (keys' bindings,
		// {spacePath}), inherit turned off, and its own subject template. Inherit turned on
		// goes after the moves, and another space's template is not its stacks'.
		if ch := m.changed[id]; !m.own[id] && (ch.parent || ch.inheritOff || (i == 0 && ch.template)) {
			return false
		}
		raw, err := m.r.get(ctx, kindSpace, id)
		if err != nil {
			return false
		}
		if raw == nil {
			// The parent of a space read: it exists, and the file does not change it.
			return i > 0
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

// turnsInheritOn reports whether the broker holds sp's space without inherit and sp has it.
func turnsInheritOn(ctx context.Context, r *planReader, sp config.Space) bool {
	cur, _, held := served[config.Space](ctx, r, kindSpace, sp.ID)
	return held && !cur.Inherit && sp.Inherit
}

// dropsScope returns, when the broker holds in's integration in in's space with an autoattach
// rule giving a label read or write that in does not give it, the broker's integration with that
// read or write taken away and nothing else changed, with the version read; nil otherwise. A read
// the file drops goes first too, as a direct attachment's does: a stack the file labels or moves
// meanwhile must not reach the integration's read runs.
func dropsScope(ctx context.Context, r *planReader, in config.Integration) *narrowStep {
	cur, m, held := served[config.Integration](ctx, r, kindIntegration, in.ID)
	if !held {
		return nil
	}
	read, write := scopeLabels(in)
	if cur.Space != in.Space {
		// Moved: it reaches other stacks, so all it attaches goes until it is put.
		read, write = nil, nil
	}
	cur.ID = in.ID
	var rules []config.Autoattach
	dropped := false
	for _, rule := range cur.Autoattach {
		if rule.Write && !write[rule.Label] {
			rule.Write, dropped = false, true
		}
		if rule.Read && !read[rule.Label] {
			rule.Read, dropped = false, true
		}
		if rule.Read || rule.Write { // a rule attaching neither is refused: it goes
			rules = append(rules, rule)
		}
	}
	if !dropped {
		return nil
	}
	if m.ManagedBy == catalog.ManagedByConfig {
		return r.fileOwned("integration/" + in.ID)
	}
	cur.Autoattach = rules
	return &narrowStep{body: cur, version: m.Version}
}

// narrowStep is the broker's object with only what the file drops taken away (an integration's
// or an attachment's read or write, a stack's labels, a role's actions), put over version.
type narrowStep struct {
	body    any
	version int64
	// after is the version the narrowed form was put at, zero until then.
	after int64
	// remove: the narrowed form is none (a direct attachment held for write only, which a
	// read-only form would give a read the broker may still hold elsewhere): it is deleted.
	remove bool
}

// narrow puts o.narrowed: it takes attachments away and adds none, so no conflict refuses it,
// and no stack the spaces and stacks applied next label or let inherit is attached for write
// by a rule or a label the file drops.
func (a *applier) narrow(ctx context.Context, o applyObject) error {
	if o.narrowed.remove {
		_, err := a.client.call(ctx, adminRequest{method: http.MethodDelete, path: o.path,
			ifMatch: o.narrowed.version})
		if err == nil {
			o.narrowed.after = o.narrowed.version
		}
		return err
	}
	want, err := canonical(o.narrowed.body)
	if err != nil {
		return err
	}
	r, err := a.client.call(ctx, adminRequest{method: http.MethodPut, path: o.path, body: want, ifMatch: o.narrowed.version})
	if err == nil {
		o.narrowed.after = r.version
	}
	return err
}

// dropsDirectScope returns, when the broker holds a's direct attachment with a scope (read or
// write) a drops, the broker's attachment without it, with the version read: removed when
// nothing is left. A read the file drops goes first too: the integration the file changes in
// the meantime (another role, say) must not reach the stack's read runs.
func dropsDirectScope(ctx context.Context, r *planReader, o applyObject, a config.Attachment) *narrowStep {
	cur, err := o.current(ctx, r.c)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("reading %s: %w", o.ref, err)
		}
		return nil
	}
	if cur == nil {
		return nil
	}
	var held config.Attachment
	if err := json.Unmarshal(cur.canon, &held); err != nil || (!(held.Write && !a.Write) && !(held.Read && !a.Read)) {
		return nil
	}
	if cur.ManagedBy == catalog.ManagedByConfig {
		return r.fileOwned(o.ref)
	}
	if !a.Read && !a.Write {
		// Neither read nor write: the broker refuses it; nothing is taken away for it.
		if r.err == nil {
			r.err = fmt.Errorf("%s: an attachment must set read, write or both", o.ref)
		}
		return nil
	}
	narrowed := held
	narrowed.Stack, narrowed.Integration = a.Stack, a.Integration
	narrowed.Read, narrowed.Write = held.Read && a.Read, held.Write && a.Write
	if !narrowed.Read && !narrowed.Write {
		// Nothing the file keeps: the form with the file's scope would add it, which
		// another attachment the file takes away first may still hold; none grants nothing.
		return &narrowStep{version: cur.Version, remove: true}
	}
	return &narrowStep{body: narrowed, version: cur.Version}
}

// dropsLabels returns, when the broker holds st's stack in st's space with a label st does not
// carry, the broker's stack with only those labels taken away, with the version read.
func dropsLabels(ctx context.Context, r *planReader, st config.Stack) *narrowStep {
	cur, m, held := served[config.Stack](ctx, r, kindStack, st.ID)
	if !held {
		return nil
	}
	if cur.Space != st.Space && !r.fileSpaces[st.Space] {
		if _, _, there := served[config.Space](ctx, r, kindSpace, st.Space); !there {
			return nil // a move into a space nobody makes fails: its labels stay
		}
	}
	kept := slices.DeleteFunc(slices.Clone(cur.Labels), func(l string) bool {
		// Moved: it may use other integrations, so every label goes until it is put.
		return cur.Space != st.Space || !slices.Contains(st.Labels, l)
	})
	if len(kept) == len(cur.Labels) {
		return nil
	}
	if m.ManagedBy == catalog.ManagedByConfig {
		return r.fileOwned("stack/" + st.ID)
	}
	cur.ID = st.ID
	cur.Labels = kept
	return &narrowStep{body: cur, version: m.Version}
}

// scopeLabels is the sets of labels in's autoattach rules attach for read and for write.
func scopeLabels(in config.Integration) (read, write map[string]bool) {
	read, write = map[string]bool{}, map[string]bool{}
	for _, r := range in.Autoattach {
		if r.Read {
			read[r.Label] = true
		}
		if r.Write {
			write[r.Label] = true
		}
	}
	return read, write
}

// fileOwned notes that the file takes something away from ref, which the broker's
// configuration file declares: the apply cannot take it away, so it changes nothing rather
// than add, beside it, what it would reach.
func (r *planReader) fileOwned(ref string) *narrowStep {
	if r.err == nil {
		r.err = fmt.Errorf("%s: the broker's configuration file declares it with what this file "+
			"takes away; change it there (objects of the file are read-only through the API)", ref)
	}
	return nil
}
