package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// attachHandler serves a stack's attachments.
type attachHandler struct {
	admin *Admin
}

// attachmentBody is the PUT body of an attachment.
type attachmentBody struct {
	Stack       string `yaml:"stack"`
	Integration string `yaml:"integration"`
	Read        bool   `yaml:"read"`
	Write       bool   `yaml:"write"`
}

// stackFor authenticates r and finds the stack of its path, visible to the key.
func (h *attachHandler) stackFor(w http.ResponseWriter, r *http.Request) (*catalog.Catalog, config.Stack, bool) {
	p, err := h.admin.authenticate(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return nil, config.Stack{}, false
	}
	c := h.admin.cfg.Catalog.Live().Load()
	st, ok := c.Stack(r.PathValue("id"))
	if !ok || !c.Access().Covers(p, st.Space) {
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No stack %q.", r.PathValue("id")))
		return nil, config.Stack{}, false
	}
	return c, st, true
}

func (h *attachHandler) list(w http.ResponseWriter, r *http.Request) {
	c, st, ok := h.stackFor(w, r)
	if !ok {
		return
	}
	if err := onlyParams(r); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	var items [][]byte
	for _, a := range c.Attachments(st.ID) {
		in, _ := c.Integration(a.Integration)
		item := fmt.Appendf(nil, `{"stack":%q,"integration":%q,"provider":%q,"read":%t,"write":%t,"source":%q`,
			a.Stack, a.Integration, in.Provider(), a.Read, a.Write, a.Source)
		if a.Source == config.SourceDirect {
			meta, _ := c.Meta(catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID(a.Stack, a.Integration)})
			item = fmt.Appendf(item, `,"managedBy":%q,"version":%d`, meta.ManagedBy, meta.Version)
		}
		items = append(items, append(item, '}'))
	}
	writeObjects(w, "attachments", items)
}

func (h *attachHandler) put(w http.ResponseWriter, r *http.Request) {
	var b attachmentBody
	p, err := h.admin.readObject(r, &b)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	stack, integration := r.PathValue("id"), r.PathValue("integration")
	if (b.Stack != "" && b.Stack != stack) || (b.Integration != "" && b.Integration != integration) {
		h.admin.fail(w, r, apierror.New(apierror.CodeInvalidRequest, "The body names another stack or integration than the path."))
		return
	}
	h.apply(w, r, p, config.Attachment{Stack: stack, Integration: integration, Read: b.Read, Write: b.Write})
}

func (h *attachHandler) delete(w http.ResponseWriter, r *http.Request) {
	p, err := h.admin.authenticate(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	h.apply(w, r, p, config.Attachment{Stack: r.PathValue("id"), Integration: r.PathValue("integration")})
}

// apply puts an attachment (PUT) or deletes it (DELETE) after checking space:admin on the
// stack's space, and for an attachment for write run:create and run:update there too: it
// directs the stack's write-scope tokens. Deleting takes access away and needs neither.
func (h *attachHandler) apply(w http.ResponseWriter, r *http.Request, p access.Principal, at config.Attachment) {
	pre, err := ifMatch(r)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	c := h.admin.cfg.Catalog.Live().Load()
	st, ok := c.Stack(at.Stack)
	if !ok || !c.Access().Covers(p, st.Space) {
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "No stack %q.", at.Stack))
		return
	}
	if in, ok := c.Integration(at.Integration); ok && r.Method == http.MethodPut &&
		!c.Access().Covers(p, in.Space) && !slices.Contains(c.UsableSpaces(st.Space), in.Space) {
		// An integration the key may not read, and that the stack could not use anyway, is
		// answered like one that does not exist, as GET answers it.
		h.admin.fail(w, r, apierror.New(apierror.CodeNotFound, "%s.",
			capitalize(fieldProblem("integration", fmt.Sprintf("integration %q does not exist", at.Integration)))))
		return
	}
	authorize := func(c *catalog.Catalog) error {
		space := st.Space
		if cur, ok := c.Stack(at.Stack); ok {
			space = cur.Space
		}
		need := changeRights{admin: []string{space}}
		if at.Write && r.Method == http.MethodPut {
			need.write = []string{space}
		}
		return h.admin.authorizeChange(r, c, p, need)
	}
	if err := authorize(c); err != nil {
		h.admin.fail(w, r, err)
		return
	}
	ref := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID(at.Stack, at.Integration)}
	mu := pre.on(catalog.Mutation{Ref: ref, Authorize: authorize, AuthorizeLeftOut: h.admin.repairLeftOut(r, p),
		AuthorizeResult: h.admin.readIntoWriteResult(r, p)})
	deleting := r.Method == http.MethodDelete
	if !deleting {
		mu.Object = at
	}
	var after any
	action := "attachment.delete"
	if !deleting {
		after, action = at, "attachment.put"
	}
	mu.Log = changeRecord{admin: h.admin, event: func(res catalog.Result) Event {
		// Filed where the stack is in the catalog the change is committed on, not where this
		// request first found it: another replica may have moved it meanwhile.
		place := catalog.ChangePlace(nil, at, res.Catalog)
		if _, ok := res.Catalog.Stack(at.Stack); !ok {
			place.Space = st.Space // not there (a reload took it meanwhile): where this request found it
		}
		return changeEvent(p, objectChange{ref: ref, action: action, place: place, res: res, after: after})
	}}
	res, err := h.admin.cfg.Catalog.Apply(r.Context(), mu)
	if err != nil {
		h.admin.fail(w, r, err)
		return
	}
	if deleting {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	in, _ := res.Catalog.Integration(at.Integration)
	item := fmt.Appendf(nil, `{"stack":%q,"integration":%q,"provider":%q,"read":%t,"write":%t,"source":%q,"managedBy":%q,"version":%d}`,
		at.Stack, at.Integration, in.Provider(), at.Read, at.Write, config.SourceDirect, catalog.ManagedByAPI, res.Version)
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeObject(w, status, objectAnswer{name: "attachment", item: item, version: res.Version})
}
