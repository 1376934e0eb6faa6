package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// kindSpec is how the administration API handles one kind of object.
type kindSpec struct {
	kind catalog.Kind
	// path is the collection's path; plural and singular name the answer's field.
	path, plural, singular string
	// decode reads a PUT body for the object id.
	decode func(id string, body []byte) (any, error)
	// all lists every object of the kind in the catalog.
	all func(c *catalog.Catalog) []any
	// get finds one object.
	get func(c *catalog.Catalog, id string) (any, bool)
	// home is the space whose bindings let a key read the object.
	home func(obj any) string
	// admin lists the spaces where changing (or deleting) the object needs space:admin.
	admin func(obj any) []string
	// spaceRef names the body's field referring to a space, and that space; nil for roles.
	spaceRef func(obj any) (field, space string)
	// filter keeps the objects a listing's query asks for.
	filter func(c *catalog.Catalog, r *http.Request, obj any) bool
	// query names the parameters a listing takes; any other is refused, so that a misspelt
	// filter is not answered with everything.
	query []string
	// grants lists the actions an object would hand out at root (a role's), which the caller
	// must hold itself.
	grants func(obj any) []string
	// cascade names the objects deleted along with this one.
	cascade func(c *catalog.Catalog, id string) []catalog.Ref
	// inUse refuses a deletion while the object is in use in a way validation cannot see,
	// since the use goes with the object: a *catalog.ChangeError of catalog.ErrConflict.
	inUse func(c *catalog.Catalog, id string) error
	// check refuses a PUT of obj as id against c, once it is authorized, for a reason of the
	// API's own (nil: none).
	check func(c *catalog.Catalog, id string, obj any) error
	// writes lists the spaces where putting obj as id over old (nil when none) directs stacks'
	// write-scope tokens, checked against c (nil: the kind directs none).
	writes func(c *catalog.Catalog, id string, obj, old any) []string
	// deleteWrites lists the spaces where deleting old (the object as c holds it) decides
	// which tokens carry subs that trust policies name (nil: the kind's deletion decides none).
	deleteWrites func(old any) []string
	// move is the move putting obj over old (nil when none) makes, which may give no key an
	// action on the object the key making it lacks where the object is (nil: the kind has no
	// place to move).
	move func(obj, old any) reachMove
}

// decodeWithID decodes a body of type T whose id, when given, must be the path's.
func decodeWithID[T any](id string, body []byte, idOf func(*T) *string) (any, error) {
	var obj T
	if err := decodeObject(body, &obj); err != nil {
		return nil, err
	}
	p := idOf(&obj)
	if *p != "" && *p != id {
		return nil, apierror.New(apierror.CodeInvalidRequest, "Field \"id\" is %q but the path names %q.", *p, id)
	}
	*p = id
	return obj, nil
}

func listOf[T any](s []T) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// inSubtree filters by the ?space= query: objects whose home lies in that space's subtree.
func inSubtree(c *catalog.Catalog, r *http.Request, home string) bool {
	s := r.URL.Query().Get("space")
	return s == "" || c.Within(home, s)
}

var objectKinds = []kindSpec{
	{
		kind: catalog.KindSpace, path: "/v1/spaces", plural: "spaces", singular: "space",
		query: []string{"space"},
		decode: func(id string, b []byte) (any, error) {
			return decodeWithID(id, b, func(s *config.Space) *string { return &s.ID })
		},
		all:          func(c *catalog.Catalog) []any { return listOf(c.Objects().Spaces) },
		get:          func(c *catalog.Catalog, id string) (any, bool) { o, ok := c.Space(id); return o, ok },
		home:         func(o any) string { return o.(config.Space).ID },
		admin:        func(o any) []string { return []string{adminSpace(o.(config.Space).Parent)} },
		spaceRef:     func(o any) (string, string) { return "parent", o.(config.Space).Parent },
		filter:       func(c *catalog.Catalog, r *http.Request, o any) bool { return inSubtree(c, r, o.(config.Space).ID) },
		check:        newTemplateFits,
		writes:       spaceWriteSpaces,
		deleteWrites: spaceDeleteWriteSpaces,
		move:         spaceMove,
	},
	{
		kind: catalog.KindStack, path: "/v1/stacks", plural: "stacks", singular: "stack",
		query: []string{"space", "label"},
		decode: func(id string, b []byte) (any, error) {
			return decodeWithID(id, b, func(s *config.Stack) *string { return &s.ID })
		},
		all:      func(c *catalog.Catalog) []any { return listOf(c.Objects().Stacks) },
		get:      func(c *catalog.Catalog, id string) (any, bool) { o, ok := c.Stack(id); return o, ok },
		home:     func(o any) string { return o.(config.Stack).Space },
		admin:    func(o any) []string { return []string{adminSpace(o.(config.Stack).Space)} },
		spaceRef: func(o any) (string, string) { return "space", o.(config.Stack).Space },
		filter: func(c *catalog.Catalog, r *http.Request, o any) bool {
			s := o.(config.Stack)
			l := r.URL.Query().Get("label")
			return inSubtree(c, r, s.Space) && (l == "" || slices.Contains(s.Labels, l))
		},
		writes: stackWriteSpaces,
		move:   stackMove,
		cascade: func(c *catalog.Catalog, id string) []catalog.Ref {
			var out []catalog.Ref
			for _, a := range c.Attachments(id) {
				if a.Source == config.SourceDirect {
					out = append(out, catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID(a.Stack, a.Integration)})
				}
			}
			return out
		},
	},
	{
		kind: catalog.KindIntegration, path: "/v1/integrations", plural: "integrations", singular: "integration",
		query: []string{"space"},
		decode: func(id string, b []byte) (any, error) {
			return decodeWithID(id, b, func(s *config.Integration) *string { return &s.ID })
		},
		all:      func(c *catalog.Catalog) []any { return listOf(c.Objects().Integrations) },
		get:      func(c *catalog.Catalog, id string) (any, bool) { o, ok := c.Integration(id); return o, ok },
		home:     func(o any) string { return o.(config.Integration).Space },
		admin:    func(o any) []string { return []string{adminSpace(o.(config.Integration).Space)} },
		spaceRef: func(o any) (string, string) { return "space", o.(config.Integration).Space },
		filter: func(c *catalog.Catalog, r *http.Request, o any) bool {
			return inSubtree(c, r, o.(config.Integration).Space)
		},
		inUse:  autoattached,
		writes: integrationWriteSpaces,
	},
	{
		kind: catalog.KindRole, path: "/v1/roles", plural: "roles", singular: "role",
		query: []string{},
		decode: func(id string, b []byte) (any, error) {
			return decodeWithID(id, b, func(s *config.Role) *string { return &s.ID })
		},
		all:    func(c *catalog.Catalog) []any { return listOf(c.Objects().Roles) },
		get:    func(c *catalog.Catalog, id string) (any, bool) { o, ok := c.Role(id); return o, ok },
		home:   func(any) string { return config.RootSpace },
		admin:  func(any) []string { return []string{config.RootSpace} },
		filter: func(*catalog.Catalog, *http.Request, any) bool { return true },
		grants: func(o any) []string { return o.(config.Role).Actions },
	},
}

// kindHandler serves one kind's endpoints.
type kindHandler struct {
	admin *Admin
	spec  kindSpec
}

func (h *kindHandler) ref(id string) catalog.Ref { return catalog.Ref{Kind: h.spec.kind, ID: id} }

// readable reports whether p may see obj: roles are global (any key), anything else needs a
// binding covering its home space.
func (h *kindHandler) readable(c *catalog.Catalog, p access.Principal, obj any) bool {
	return h.spec.kind == catalog.KindRole || c.Access().Covers(p, h.spec.home(obj))
}

func (h *kindHandler) list(w http.ResponseWriter, r *http.Request) {
	p, err := h.admin.authenticate(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	if err := onlyParams(r, h.spec.query...); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	if s := r.URL.Query().Get("space"); s != "" {
		if _, ok := c.Space(s); !ok || !listable(c, p, s) {
			h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No space %q that this key may read.", s))
			return
		}
	}
	var items [][]byte
	for _, obj := range h.spec.all(c) {
		if !h.readable(c, p, obj) || !h.spec.filter(c, r, obj) {
			continue
		}
		ref, _ := catalog.RefOf(obj)
		meta, _ := c.Meta(ref)
		item, err := objectJSON(obj, meta)
		if err != nil {
			h.admin.fail(w, r, err)
			return
		}
		items = append(items, item)
	}
	writeObjects(w, h.spec.plural, items)
}

func (h *kindHandler) get(w http.ResponseWriter, r *http.Request) {
	p, err := h.admin.authenticate(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	id := r.PathValue("id")
	obj, ok := h.spec.get(c, id)
	if !ok || !h.readable(c, p, obj) {
		// An object the key may not read is answered like one that does not exist.
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No %s %q.", h.spec.kind, id))
		return
	}
	meta, _ := c.Meta(h.ref(id))
	item, err := objectJSON(obj, meta)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	writeObject(w, http.StatusOK, objectAnswer{name: h.spec.singular, item: item, version: meta.Version})
}

func (h *kindHandler) put(w http.ResponseWriter, r *http.Request) {
	p, err := h.admin.authenticate(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	body, err := readBody(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	obj, err := h.spec.decode(id, body)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	pre, err := ifMatch(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	if h.spec.spaceRef != nil {
		field, space := h.spec.spaceRef(obj)
		if err := missingSpace(c, field, space); err != nil {
			h.admin.fail(w, r, err)
			return
		}
	}
	var grants []string
	if h.spec.grants != nil {
		grants = h.spec.grants(obj)
	}
	authorize := func(c *catalog.Catalog) error {
		need := changeRights{admin: h.spec.admin(obj), grants: grants}
		old, ok := h.spec.get(c, id)
		if ok {
			need.admin = append(need.admin, h.spec.admin(old)...)
			if !h.readable(c, p, old) {
				need.hidden = fmt.Sprintf("%s %q", h.spec.kind, id)
			}
		} else {
			old = nil
		}
		if h.spec.writes != nil {
			need.write = h.spec.writes(c, id, obj, old)
		}
		if h.spec.move != nil {
			need.move = h.spec.move(obj, old)
		}
		if err := h.admin.authorizeChange(r, c, p, need); err != nil || h.spec.check == nil {
			return err
		}
		// Checked once authorized (a refusal tells nothing of objects the key may not read),
		// on the catalog the change is committed against.
		return h.spec.check(c, id, obj)
	}
	if err := authorize(c); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	event := func(res catalog.Result) Event {
		// A move is filed where the object was too.
		return changeEvent(p, objectChange{ref: h.ref(id), action: string(h.spec.kind) + ".put",
			place: catalog.ChangePlace(res.Before, obj, res.Catalog), res: res, after: obj})
	}
	res, err := h.admin.cfg.Catalog.Apply(r.Context(), pre.on(catalog.Mutation{Ref: h.ref(id), Object: obj, Authorize: authorize,
		AuthorizeLeftOut: h.admin.repairLeftOut(r, p), AuthorizeResult: h.admin.readIntoWriteResult(r, p), Log: changeRecord{admin: h.admin, event: event}}))
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	meta, _ := res.Catalog.Meta(h.ref(id))
	if stored, ok := h.spec.get(res.Catalog, id); ok {
		obj = stored // as GET shows this version: with the defaults the catalog gave it
	}
	item, err := objectJSON(obj, meta)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeObject(w, status, objectAnswer{name: h.spec.singular, item: item, version: meta.Version})
}

func (h *kindHandler) delete(w http.ResponseWriter, r *http.Request) {
	p, pre, err := h.admin.changeOf(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	c := h.admin.cfg.Catalog.Live().Load()
	old, ok := h.spec.get(c, id)
	if !ok || !h.readable(c, p, old) {
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No %s %q.", h.spec.kind, id))
		return
	}
	authorize := func(c *catalog.Catalog) error {
		cur, ok := h.spec.get(c, id)
		if !ok {
			return nil // gone meanwhile: the change answers not found
		}
		need := changeRights{admin: h.spec.admin(cur)}
		if h.spec.deleteWrites != nil {
			need.write = h.spec.deleteWrites(cur)
		}
		return h.admin.authorizeChange(r, c, p, need)
	}
	if err := authorize(c); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	if h.spec.inUse != nil {
		// Checked against the catalog the deletion is validated against, at every attempt.
		authorized := authorize
		authorize = func(c *catalog.Catalog) error {
			if err := authorized(c); err != nil {
				return err
			}
			return h.spec.inUse(c, id)
		}
	}
	mu := pre.on(catalog.Mutation{Ref: h.ref(id), Authorize: authorize, AuthorizeLeftOut: h.admin.repairLeftOut(r, p)})
	if h.spec.cascade != nil {
		mu.Cascade = func(c *catalog.Catalog) []catalog.Ref { return h.spec.cascade(c, id) }
	}
	mu.Log = changeRecord{admin: h.admin, event: func(res catalog.Result) Event {
		// Filed where the object was in the catalog the deletion is committed on (res.Before),
		// not where this request first found it: another replica may have moved it meanwhile.
		was := res.Before
		if was == nil {
			was = old // never: a deletion is planned only for an object that exists
		}
		// The deleted object's own space may be gone with it (a space deleted): the space it
		// was in lists the event too.
		return changeEvent(p, objectChange{ref: h.ref(id), action: string(h.spec.kind) + ".delete",
			place: catalog.ChangePlace(was, nil, res.Catalog), res: res})
	}}
	if _, err := h.admin.cfg.Catalog.Apply(r.Context(), mu); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// changeRights is what a change to an object demands of the key making it.
type changeRights struct {
	// admin lists the spaces where the key needs space:admin; a refusal is filed under the
	// first (root when there is none).
	admin []string
	// grants lists the actions the object would hand out at root (a role's), which the key must
	// hold there itself; empty when the object hands out none.
	grants []string
	// hidden, when set, names an object the key may not read (GET answers it like one that
	// does not exist, as it does an object left out of force): a refusal names only it, not
	// the spaces it lives in or the right it lacks, in the answer and in the audit trail the
	// key may read.
	hidden string
	// write lists the spaces where the change directs stacks' write-scope tokens: the key needs
	// there the rights such a token stands for (writeTokenActions).
	write []string
	// readIntoWrite lists the spaces of stacks attached for write to a cloud identity the change
	// lets read-scope tokens reach (see newReadIntoWriteSpaces): the key needs
	// writeTokenActions there too, and a refusal names none of them.
	readIntoWrite []string
	// move is the move the change makes: the key must hold, where the object is now, every
	// action the move gives any key (one it holds where the object goes, not where it is).
	move reachMove
}

// authorizeChange checks, against c, that p has every right need lists: space:admin on each of
// need.admin, at root every action of need.grants, and writeTokenActions on each of
// need.write, and that need.move gives no key an action p lacks where the object is now. A
// refusal is audited.
func (a *Admin) authorizeChange(r *http.Request, c *catalog.Catalog, p access.Principal, need changeRights) error {
	if err := c.Access().Current(p); err != nil {
		// The key was deleted or its secret replaced meanwhile: 401, recorded as every
		// control-plane 401 is.
		a.cfg.Auth.recordUnauthenticated(r, Event{Action: r.Method + " " + recordedPath(r)}, err)
		return err
	}
	err := requireAdmin(c, p, need.admin...)
	if err == nil && len(need.grants) > 0 && !c.Access().Holds(p, config.RootSpace, knownActions(need.grants)) {
		err = apierror.New(apierror.CodeForbidden, "API key %q may not grant actions it does not hold itself.", p.KeyID)
	}
	if err == nil {
		err = requireWriteRights(c, p, need.write)
	}
	if err == nil {
		err = requireReadIntoWriteRights(c, p, need.readIntoWrite)
	}
	if err == nil {
		err = requireMoveGivesNothing(c, p, need.move)
	}
	if err != nil && need.hidden != "" {
		err = apierror.New(apierror.CodeForbidden, "API key %q may not change %s.", p.KeyID, need.hidden)
	}
	if err != nil {
		// Filed under every space the change needs administered (a move: where the object was
		// and where it goes), as an applied change is; filed under several, the detail names no
		// space, since the auditors of one would read another team's id in it.
		place := catalog.PlaceUnder(c, need.admin...)
		detail := err.Error()
		if len(place.Also) > 0 {
			detail = apierror.New(apierror.CodeForbidden, "API key %q may not make this change, which touches several spaces.", p.KeyID).Error()
		}
		recordRefusal(r.Context(), a.cfg.Events, a.cfg.Logger, Event{Actor: "api_key:" + p.KeyID,
			Action: r.Method + " " + recordedPath(r), Run: runs.Run{Space: place.Space}, Also: place.Also, Outcome: "denied", Detail: detail})
	}
	return err
}

// repairLeftOut is a change's catalog.Mutation.AuthorizeLeftOut: a stored object left out of
// force can be replaced through the API only by a key holding every action on root, and a
// change by any other key that would bring a left-out object back into force is refused
// (409). A left-out object is in no catalog the other checks read, so they would authorize its
// replacement as a creation, by whoever administers the space the new object names, and
// could not see what it brings back: another team's stacks, a write attachment (whose
// tokens only a key with writeTokenActions may direct), a role or an API key (whose actions
// only a key holding them may grant). Only a key that holds everything anywhere can bring
// back whatever the store holds.
func (a *Admin) repairLeftOut(r *http.Request, p access.Principal) func(c *catalog.Catalog) error {
	return func(c *catalog.Catalog) error {
		return a.authorizeChange(r, c, p, changeRights{
			admin: []string{config.RootSpace}, grants: config.Actions, write: []string{config.RootSpace},
			hidden: "an object left out of force, or bring one back, which takes every action on root"})
	}
}

// knownActions keeps the actions a role can hold: an unknown one grants nothing, and
// validation refuses it with 400 naming the field.
func knownActions(actions []string) []string {
	out := make([]string, 0, len(actions))
	for _, a := range actions {
		if slices.Contains(config.Actions, a) {
			out = append(out, a)
		}
	}
	return out
}

// fieldsOf maps an object's top-level API fields to their JSON text.
func fieldsOf(obj any) map[string]string {
	out := map[string]string{}
	if obj == nil {
		return out
	}
	body, err := config.EncodeJSON(obj)
	if err != nil {
		return out
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) == nil {
		for k, v := range raw {
			out[k] = string(v)
		}
	}
	return out
}

// autoattached refuses to delete integration id while its autoattach rules attach it to a
// stack. A direct attachment refers to the integration and validation refuses the deletion;
// an automatic one would silently go with it, taking the stack's credentials mid-run.
func autoattached(c *catalog.Catalog, id string) error {
	for _, st := range c.Objects().Stacks {
		for _, a := range c.Attachments(st.ID) {
			if a.Integration == id && a.Source != config.SourceDirect {
				return &catalog.ChangeError{Kind: catalog.ErrConflict, Messages: []string{fmt.Sprintf(
					"integration %q is attached to stack %q (%s); remove its autoattach rules first", id, st.ID, a.Source)}}
			}
		}
	}
	return nil
}

// listable reports whether p may filter a listing by space s: a binding of p covers s, or s is
// an id p already reads: root, or the parent of a space a binding of p covers. A key bound
// below s lists its own objects there; s holds nothing else it may read. An ancestor further
// up is answered as a space that does not exist: its id is not the key's to learn.
func listable(c *catalog.Catalog, p access.Principal, s string) bool {
	if s == config.RootSpace || c.Access().Covers(p, s) {
		return true
	}
	return slices.ContainsFunc(c.Objects().Spaces, func(sp config.Space) bool {
		return sp.Parent == s && c.Access().Covers(p, sp.ID)
	})
}
