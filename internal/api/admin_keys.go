package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// apiKeyHandler serves the API keys.
type apiKeyHandler struct {
	admin *Admin
}

// apiKeyBody is the POST body of a new key.
type apiKeyBody struct {
	ID       string           `yaml:"id"`
	Bindings []config.Binding `yaml:"bindings"`
}

// apiKeyJSON renders a key without its secret's hash.
func apiKeyJSON(id string, bindings []config.Binding, meta catalog.Meta) ([]byte, error) {
	return objectJSON(apiKeyBody{ID: id, Bindings: bindings}, meta)
}

// administered keeps the bindings whose space p administers.
func administered(c *catalog.Catalog, p access.Principal, bindings []config.Binding) []config.Binding {
	var out []config.Binding
	for _, b := range bindings {
		if c.Access().Allowed(p, config.ActionSpaceAdmin, b.Space) == nil {
			out = append(out, b)
		}
	}
	return out
}

func (h *apiKeyHandler) list(w http.ResponseWriter, r *http.Request) {
	p, err := h.admin.authenticate(r)
	if err == nil {
		err = onlyParams(r)
	}
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	var items [][]byte
	for _, k := range c.Objects().APIKeys {
		shown := administered(c, p, k.Bindings)
		if len(shown) == 0 {
			continue
		}
		meta, _ := c.Meta(catalog.Ref{Kind: catalog.KindAPIKey, ID: k.ID})
		item, err := apiKeyJSON(k.ID, shown, meta)
		if err != nil {
			h.admin.fail(w, r, err)
			return
		}
		items = append(items, item)
	}
	writeObjects(w, "apiKeys", items)
}

// authorizeBindings checks space:admin on every bound space and that p holds there every
// action of the bound role: no key can grant what its caller lacks.
func (h *apiKeyHandler) authorizeBindings(r *http.Request, c *catalog.Catalog, p access.Principal, bindings []config.Binding) error {
	spaces := make([]string, len(bindings))
	for i, b := range bindings {
		if err := missingSpace(c, fmt.Sprintf("bindings[%d].space", i), b.Space); err != nil {
			return err
		}
		spaces[i] = adminSpace(b.Space)
	}
	if err := h.admin.authorizeChange(r, c, p, changeRights{admin: spaces}); err != nil {
		return err
	}
	for _, b := range bindings {
		role, ok := c.Role(b.Role)
		if ok && !c.Access().Holds(p, adminSpace(b.Space), role.Actions) {
			err := apierror.New(apierror.CodeForbidden, "API key %q may not bind role %q in space %q: it does not hold all of its actions there.", p.KeyID, b.Role, b.Space)
			recordRefusal(r.Context(), h.admin.cfg.Events, h.admin.cfg.Logger, Event{Actor: "api_key:" + p.KeyID,
				Action: "api_key.create", Run: runs.Run{Space: b.Space}, Outcome: "denied", Detail: err.Message})
			return err
		}
	}
	return nil
}

func (h *apiKeyHandler) create(w http.ResponseWriter, r *http.Request) {
	var b apiKeyBody
	p, err := h.admin.readObject(r, &b)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	if len(b.Bindings) == 0 {
		h.admin.fail(w, r, apierror.New(apierror.CodeInvalidRequest, "Field \"bindings\": at least one binding {role, space} is required."))
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	if err := h.authorizeBindings(r, c, p, b.Bindings); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	secret, err := config.NewAPIKeySecret()
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	key := config.APIKey{ID: b.ID, SecretSHA256: config.HashAPIKeySecret(secret), Bindings: b.Bindings}
	ref := catalog.Ref{Kind: catalog.KindAPIKey, ID: b.ID}
	if _, exists := c.Meta(ref); exists {
		h.admin.fail(w, r, apierror.New(apierror.CodeConflict, "API key %q already exists; delete it first to replace its secret.", b.ID))
		return
	}
	// Checked again against the catalog the key is committed on: another replica may have
	// created the id (a secret is never replaced) or changed the caller's rights meanwhile.
	authorize := func(c *catalog.Catalog) error {
		if _, exists := c.Meta(ref); exists {
			return apierror.New(apierror.CodeConflict, "API key %q already exists.", b.ID)
		}
		return h.authorizeBindings(r, c, p, b.Bindings)
	}
	event := func(res catalog.Result) Event {
		// Filed under the spaces the key is bound on in the catalog it is committed on.
		created := key
		if k, ok := res.Catalog.APIKey(b.ID); ok {
			created = k
		}
		place := catalog.ChangePlace(nil, created, res.Catalog)
		return Event{Actor: "api_key:" + p.KeyID, Action: "api_key.create", Run: runs.Run{Space: place.Space},
			Also: place.Also, Detail: keyCreated(b.ID, created.Bindings, valuesShown(place, nil, created))}
	}
	res, err := h.admin.cfg.Catalog.Apply(r.Context(), catalog.Mutation{Ref: ref, Object: key, Authorize: authorize,
		AuthorizeLeftOut: h.admin.repairLeftOut(r, p), Log: changeRecord{admin: h.admin, event: event}})
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	item, err := apiKeyJSON(b.ID, b.Bindings, catalog.Meta{ManagedBy: catalog.ManagedByAPI, Version: res.Version})
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(res.Version, 10)))
	writeRaw(w, http.StatusCreated, fmt.Appendf(nil, `{"apiKey":%s,"secret":%q}`+"\n", item, secret))
}

func (h *apiKeyHandler) delete(w http.ResponseWriter, r *http.Request) {
	p, pre, err := h.admin.changeOf(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	id := r.PathValue("id")
	key, ok := c.APIKey(id)
	if !ok || len(administered(c, p, key.Bindings)) == 0 {
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No API key %q.", id))
		return
	}
	authorize := func(c *catalog.Catalog) error {
		cur, ok := c.APIKey(id)
		if !ok {
			return nil // gone meanwhile: the change answers not found
		}
		spaces := make([]string, len(cur.Bindings))
		for i, b := range cur.Bindings {
			spaces[i] = b.Space
		}
		return h.admin.authorizeChange(r, c, p, changeRights{admin: spaces})
	}
	if err := authorize(c); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	event := func(res catalog.Result) Event {
		// Filed under the spaces the key deleted was bound on in the catalog the deletion is
		// committed on (res.Before), not the key this request first found: another replica may
		// have deleted it and created another under its id meanwhile.
		gone := key
		if k, ok := res.Before.(config.APIKey); ok {
			gone = k
		}
		return changeEvent(p, objectChange{ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: id}, action: "api_key.delete",
			place: catalog.ChangePlace(gone, nil, res.Catalog), res: res})
	}
	mu := pre.on(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: id}, Authorize: authorize,
		AuthorizeLeftOut: h.admin.repairLeftOut(r, p), Log: changeRecord{admin: h.admin, event: event}})
	if _, err := h.admin.cfg.Catalog.Apply(r.Context(), mu); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// keyCreated is the detail of an API key's creation: its bindings when shown (see valuesShown),
// else how many.
func keyCreated(id string, bindings []config.Binding, shown bool) string {
	if !shown {
		return fmt.Sprintf("created API key %q with %d binding(s)", id, len(bindings))
	}
	return fmt.Sprintf("created API key %q with %d binding(s): %s", id, len(bindings), cut(bindingsValue(bindings), maxObjectBytes))
}

// bindingsValue lists bindings as "role on space", comma-separated.
func bindingsValue(bindings []config.Binding) string {
	out := make([]string, len(bindings))
	for i, b := range bindings {
		out[i] = b.Role + " on " + b.Space
	}
	return strings.Join(out, ", ")
}
