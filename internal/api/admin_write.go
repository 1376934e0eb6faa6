package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/trust"
)

// writeTokenActions are the rights a stack's write-scope token stands for: a key that points
// such tokens somewhere (an attachment for write, an autoattach rule for write, a change to an
// integration attached for write, a move of a stack or space holding a write attachment, direct
// or automatic, or any PUT of a stack or space attaching a stack for write) must hold both on
// the space, or space:admin alone would collect the tokens of runs it may neither start nor
// move.
var writeTokenActions = []string{config.ActionRunCreate, config.ActionRunUpdate}

// requireReadIntoWriteRights returns nil when p holds every action of writeTokenActions in each
// space of spaces (see newReadIntoWriteSpaces). A refusal names none of them: they are where other
// stacks are attached for write, which the key may hold no binding on.
func requireReadIntoWriteRights(c *catalog.Catalog, p access.Principal, spaces []string) error {
	for _, s := range spaces {
		if len(missingWriteRights(c, p, s)) > 0 {
			return apierror.New(apierror.CodeForbidden,
				"API key %q may not let read-scope tokens reach a cloud identity that stacks are or were attached to for write (an AWS role, a GCP service account, an Azure application, a Vault role; the trust policies printed for it outlive the attachment) without %s where those stacks are or were.",
				p.KeyID, strings.Join(writeTokenActions, " and "))
		}
	}
	return nil
}

// requireWriteRights returns nil when p holds every action of writeTokenActions in each space
// of spaces; a refusal names the space and the actions p lacks there.
func requireWriteRights(c *catalog.Catalog, p access.Principal, spaces []string) error {
	for _, s := range spaces {
		if missing := missingWriteRights(c, p, s); len(missing) > 0 {
			return apierror.New(apierror.CodeForbidden,
				"API key %q may not direct write-scope tokens of stacks in space %q without %s there.",
				p.KeyID, s, strings.Join(missing, " and "))
		}
	}
	return nil
}

// missingWriteRights lists the actions of writeTokenActions p does not hold in space.
func missingWriteRights(c *catalog.Catalog, p access.Principal, space string) []string {
	var missing []string
	for _, act := range writeTokenActions {
		if c.Access().Allowed(p, act, space) != nil {
			missing = append(missing, act)
		}
	}
	return missing
}

// catalogPairs are the attachments of a catalog sorted by the cloud identity their integration
// grants (see trust.PairsByIdentity).
type catalogPairs struct {
	c          *catalog.Catalog
	byIdentity map[string]trust.IdentityPairs
}

// pairsOf is catalogPairs of every attachment c holds, direct or by an autoattach rule.
func pairsOf(c *catalog.Catalog) catalogPairs {
	all := func(yield func(*config.EffectiveAttachment) bool) {
		for _, st := range c.Objects().Stacks {
			for at := range trust.Each(c.Attachments(st.ID)) {
				if !yield(at) {
					return
				}
			}
		}
	}
	return catalogPairs{c: c, byIdentity: trust.PairsByIdentity(all, c.Integration)}
}

// writersIn maps each cloud identity that stacks are attached to for write (directly or by an
// autoattach rule) to the spaces of those stacks, added to into.
func (cp catalogPairs) writersIn(into map[string][]string) map[string][]string {
	for id, p := range cp.byIdentity {
		for _, at := range p.Write {
			space, _ := cp.c.StackSpace(at.Stack)
			if s := adminSpace(space); !slices.Contains(into[id], s) {
				into[id] = append(into[id], s)
			}
		}
	}
	return into
}

// readIntoWrite is where read-scope tokens reach a cloud identity of writers (see writersIn):
// each (stack, integration) attached for read, directly or by an autoattach rule, whose
// integration grants such an identity, mapped to the spaces of the stacks attached for write to
// it. `broker trust` prints that identity's trust for all of them, so each such pair lets read
// tokens (a pull request's among them) take what write runs take.
func (cp catalogPairs) readIntoWrite(writers map[string][]string) map[string][]string {
	out := map[string][]string{}
	for id, p := range cp.byIdentity {
		spaces, ok := writers[id]
		if !ok {
			continue
		}
		for _, at := range p.Read {
			out[at.Stack+"/"+at.Integration+" "+id] = spaces
		}
	}
	return out
}

// newReadIntoWriteSpaces lists the spaces of the stacks attached for write to each cloud
// identity, attached for write before, after, or when the store recorded it (written), that
// after lets read-scope tokens reach through a pair before did not (see readIntoWrite), whatever
// the change put: an attachment, an autoattach rule, a label, a move, an inherit flip or an
// integration's new identity.
func newReadIntoWriteSpaces(before, after *catalog.Catalog, written catalog.Written) []string {
	pb, pa := pairsOf(before), pairsOf(after)
	// An identity written before the change, by the change, or by any change before it:
	// narrowing a stack's write attachment to read, in one step or by deleting it and attaching
	// the identity for read, lets its read tokens reach the identity its write runs took, whose
	// trust policies outlive the attachment.
	// A record stands for the space holding its place before the change and for the one after
	// it: the rights are asked in the catalog before the change, where a space moved back to a
	// recorded place still stands elsewhere.
	had := pb.readIntoWrite(pb.writersIn(written.Spaces(before)))
	writers := pa.writersIn(pb.writersIn(mergeSpaces(written.Spaces(before), written.Spaces(after))))
	var spaces []string
	for pair, writers := range pa.readIntoWrite(writers) {
		if _, ok := had[pair]; ok {
			continue
		}
		for _, s := range writers {
			if !slices.Contains(spaces, s) {
				spaces = append(spaces, s)
			}
		}
	}
	slices.Sort(spaces)
	return spaces
}

// mergeSpaces adds to into each space of from it lacks, identity by identity.
func mergeSpaces(into, from map[string][]string) map[string][]string {
	for id, spaces := range from {
		for _, s := range spaces {
			if !slices.Contains(into[id], s) {
				into[id] = append(into[id], s)
			}
		}
	}
	return into
}

// readIntoWriteResult is a change's catalog.Mutation.AuthorizeResult: a change that lets
// read-scope tokens reach a cloud identity that stacks are or were attached to for write (see
// newReadIntoWriteSpaces) takes writeTokenActions where those stacks are or were.
func (a *Admin) readIntoWriteResult(r *http.Request, p access.Principal) func(catalog.Outcome) error {
	return func(o catalog.Outcome) error {
		spaces := newReadIntoWriteSpaces(o.Before, o.After, o.Written)
		if len(spaces) == 0 {
			return nil
		}
		return a.authorizeChange(r, o.Before, p, changeRights{readIntoWrite: spaces})
	}
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

// stackWriteSpaces lists the space where putting obj as stack id over old (nil when none)
// directs write-scope tokens: the stack's new space, when the PUT attaches the stack for write
// (directly or by an autoattach rule) to an integration it was not attached to for write (a
// stack created or labelled under a rule for write, or moved under one), or when it moves the
// stack holding an attachment for write before or after. A write attachment made where the key
// holds the run rights must not be carried to where it does not, nor a stack brought under a
// rule attaching it for write there, in one step or several.
//
// A move into a space of another subject template directs them too, whatever the stack holds
// now: the trust policies installed in the clouds name the subs the old template made for it,
// and outlive the write attachment they were printed for (dropped, it takes only space:admin),
// so the key needs the run rights where the stack is and where it goes.
func stackWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	s := obj.(config.Stack)
	moved := old != nil && old.(config.Stack).Space != s.Space
	if old != nil && !moved && slices.Equal(old.(config.Stack).Labels, s.Labels) {
		return nil // in the same space with the same labels, its attachments stay as they are
	}
	if moved && templateOf(c, old.(config.Stack).Space) != templateOf(c, s.Space) {
		return []string{adminSpace(old.(config.Stack).Space), adminSpace(s.Space)}
	}
	w := writeChangeOf(c, obj, map[string]bool{id: true})
	if len(w.made) == 0 && !(moved && w.held) {
		return nil
	}
	return []string{adminSpace(s.Space)}
}

// templateOf is the subject template space uses in c: its own, or the default.
func templateOf(c *catalog.Catalog, space string) string {
	sp, _ := c.Space(space)
	return config.EffectiveSubjectTemplate(sp.SubjectTemplate)
}

// spaceWriteSpaces lists the spaces where putting obj as space id over old (nil when none)
// directs write-scope tokens. A move directs those of the stacks of the space's subtree to the
// new parent, when one of them holds an attachment for write (directly or by an autoattach
// rule) before or after the move: the key needs the run rights there, which its reach over the
// stacks after the move includes. A new subject template directs them too, whatever the
// space's stacks hold now: the trust policies installed in the clouds name the subs the old
// template made, and outlive the write attachments they were printed for (dropped, they take
// only space:admin); the new template decides which tokens carry those subs (a template
// putting the literal "write" where the scope was makes a pull request's read token match a
// write role's pattern). The key needs the run rights on the space, or, for a new space with
// a template of its own, on its parent. Any other PUT (an inherit flip, say) lists the space
// of each stack it attaches for write to an integration the stack was not attached to for
// write.
func spaceWriteSpaces(c *catalog.Catalog, id string, obj, old any) []string {
	s := obj.(config.Space)
	var retemplated []string // where the key needs the run rights for the template
	moved := false
	if old == nil {
		if s.SubjectTemplate != "" {
			retemplated = []string{adminSpace(s.Parent)}
		}
	} else {
		o := old.(config.Space)
		moved = o.Parent != s.Parent
		if config.EffectiveSubjectTemplate(o.SubjectTemplate) != config.EffectiveSubjectTemplate(s.SubjectTemplate) {
			retemplated = []string{id}
		}
		if !moved && retemplated == nil && o.Inherit == s.Inherit {
			return nil // the integrations its stacks may use, and their subs, stay the same
		}
	}
	stacks := map[string]bool{}
	for _, st := range c.Objects().Stacks {
		if c.Within(st.Space, id) {
			stacks[st.ID] = true
		}
	}
	w := writeChangeOf(c, obj, stacks)
	switch {
	case moved && w.held:
		return append(retemplated, adminSpace(s.Parent))
	case moved:
		return retemplated
	}
	return append(retemplated, w.made...)
}

// spaceDeleteWriteSpaces lists the space itself when deleting old, a space with a subject
// template of its own, needs the run rights there: its template leaves the catalog, and with it
// the check that no other space's template makes the subs the trust policies installed for it
// name, which outlive it (a space of another team could then take its stacks' write subs).
func spaceDeleteWriteSpaces(old any) []string {
	if s := old.(config.Space); s.SubjectTemplate != "" {
		return []string{s.ID}
	}
	return nil
}

// writeChange is what putting a space or a stack does to the attachments for write of some
// stacks.
type writeChange struct {
	// held reports whether one of the stacks holds an attachment for write, direct or made by
	// an autoattach rule, before the change or after it.
	held bool
	// made lists, sorted, the spaces (after the change) of the stacks that hold after the
	// change an attachment for write to an integration they were not attached to for write.
	made []string
}

// writeChangeOf compares the attachments for write of stacks in c and once obj (a space or a
// stack) takes the place of the object with its id. A space or stack PUT changes no stack's
// membership of the subtree it changes, so stacks names the same stacks before and after. The
// attachments in force are computed once for the whole catalog after the change (c holds them
// before), and not at all when no autoattach rule attaches for write: a space or stack PUT then
// leaves every stack's attachments for write as they are.
func writeChangeOf(c *catalog.Catalog, obj any, stacks map[string]bool) writeChange {
	var w writeChange
	if len(stacks) == 0 {
		return w
	}
	before := map[config.Attachment]bool{}
	for st := range stacks {
		for _, a := range c.Attachments(st) {
			if a.Write {
				before[config.Attachment{Stack: st, Integration: a.Integration}] = true
				w.held = true
			}
		}
	}
	if !slices.ContainsFunc(c.Objects().Integrations, func(in config.Integration) bool {
		return slices.ContainsFunc(in.Autoattach, func(r config.Autoattach) bool { return r.Write })
	}) {
		return w
	}
	after := changedObjects(c, obj)
	spaceOf := make(map[string]string, len(stacks))
	for _, st := range after.Stacks {
		if stacks[st.ID] {
			spaceOf[st.ID] = st.Space
		}
	}
	for _, a := range after.EffectiveAttachments() {
		if !a.Write || !stacks[a.Stack] {
			continue
		}
		w.held = true
		if s := adminSpace(spaceOf[a.Stack]); !before[config.Attachment{Stack: a.Stack, Integration: a.Integration}] && !slices.Contains(w.made, s) {
			w.made = append(w.made, s)
		}
	}
	slices.Sort(w.made)
	return w
}

// changedObjects returns the spaces, stacks, integrations and attachments of c with obj (a
// space or a stack) in place of the object with its id, or added when c has none.
func changedObjects(c *catalog.Catalog, obj any) *config.Config {
	o := c.Objects().With(obj)
	return &config.Config{Spaces: o.Spaces, Stacks: o.Stacks, Integrations: o.Integrations, Attachments: o.Attachments}
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
	// carries reports whether the object takes bindings along: a space does, those on it and
	// on its subtree.
	carries bool
}

// spaceMove is the move putting obj as space over old (nil when none) makes.
func spaceMove(obj, old any) reachMove {
	s := obj.(config.Space)
	if old == nil || adminSpace(old.(config.Space).Parent) == adminSpace(s.Parent) {
		return reachMove{}
	}
	return reachMove{from: s.ID, to: adminSpace(s.Parent), carries: true}
}

// stackMove is the move putting obj as stack over old (nil when none) makes.
func stackMove(obj, old any) reachMove {
	s := obj.(config.Stack)
	if old == nil || adminSpace(old.(config.Stack).Space) == adminSpace(s.Space) {
		return reachMove{}
	}
	return reachMove{from: adminSpace(old.(config.Stack).Space), to: adminSpace(s.Space)}
}

// requireMoveGivesNothing returns nil when m gives no API key an action on the moved object
// that p does not hold where the object is now. The move gives a key (p or any other, from the
// file or the API) each action it holds in m.to but not in m.from (bindings cover subtrees), and
// p must hold every action given in m.from. Otherwise a key could move an object under a space
// where it, or a key it made or found bound there, holds more (run rights, say): then act on
// the object, or bind another key with those rights on it that keeps them once the object is
// moved back. A key bound over both places, or on the moved space's own subtree, gains nothing.
// A refusal names the actions, never the keys they would be given to, and the spaces only when
// p may read both.
func requireMoveGivesNothing(c *catalog.Catalog, p access.Principal, m reachMove) error {
	if m.to == "" {
		return nil
	}
	az, keys := c.Access(), c.Objects().APIKeys
	var given []string
	for _, act := range config.Actions {
		if az.Allowed(p, act, m.from) == nil {
			continue // p holds it where the object is: it may give it
		}
		if slices.ContainsFunc(keys, func(k config.APIKey) bool {
			kp := access.Principal{KeyID: k.ID}
			return az.Allowed(kp, act, m.to) == nil && az.Allowed(kp, act, m.from) != nil
		}) {
			given = append(given, act)
		}
	}
	if len(given) == 0 {
		return requireNothingCarried(c, p, m)
	}
	if !az.Covers(p, m.from) || !az.Covers(p, m.to) {
		return apierror.New(apierror.CodeForbidden,
			"API key %q may not make this move: it would give keys bound where the object goes %s on it, which API key %q does not hold where it is now.",
			p.KeyID, strings.Join(given, ", "), p.KeyID)
	}
	return apierror.New(apierror.CodeForbidden,
		"API key %q may not make this move: it would give keys bound where the object goes (space %q) %s on it, which API key %q does not hold where it is now (space %q).",
		p.KeyID, m.to, strings.Join(given, ", "), p.KeyID, m.from)
}

// requireNothingCarried returns nil when the bindings m carries (those on a moved space and its
// subtree) hold no action that p does not hold where the space goes. Otherwise a key could bind
// another key with its rights on a space where it holds them, move the space under a place
// where it holds fewer, and act there through that key: attach the new place's integrations
// for write to a stack of the space, say, or label one under the new place's rule for write.
// A refusal names the actions, never the keys that hold them.
func requireNothingCarried(c *catalog.Catalog, p access.Principal, m reachMove) error {
	if !m.carries {
		return nil
	}
	az, o := c.Access(), c.Objects()
	held := map[string]bool{}
	for _, k := range o.APIKeys {
		for _, b := range k.Bindings {
			if !c.Within(b.Space, m.from) {
				continue
			}
			if i := slices.IndexFunc(o.Roles, func(r config.Role) bool { return r.ID == b.Role }); i >= 0 {
				for _, act := range o.Roles[i].Actions {
					held[act] = true
				}
			}
		}
	}
	var carried []string
	for _, act := range config.Actions {
		if held[act] && az.Allowed(p, act, m.to) != nil {
			carried = append(carried, act)
		}
	}
	if len(carried) == 0 {
		return nil
	}
	if !az.Covers(p, m.to) {
		return apierror.New(apierror.CodeForbidden,
			"API key %q may not make this move: keys bound on the space or below it hold %s, which API key %q does not hold where the space goes.",
			p.KeyID, strings.Join(carried, ", "), p.KeyID)
	}
	return apierror.New(apierror.CodeForbidden,
		"API key %q may not make this move: keys bound on the space or below it hold %s, which API key %q does not hold where the space goes (space %q).",
		p.KeyID, strings.Join(carried, ", "), p.KeyID, m.to)
}
