package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// Audit listing limits.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

type auditResponse struct {
	Events []audit.Event `json:"events"`
	Next   string        `json:"next"`
}

// listAudit serves GET /v1/audit?space=ID&after=CURSOR&limit=N: the events of a space's
// subtree, oldest first (audit:read on the space; space defaults to root).
func (c *Control) listAudit(w http.ResponseWriter, r *http.Request) {
	p, err := c.authenticate(r)
	if err != nil {
		c.refuse(w, r, Event{Action: "audit.read"}, err)
		return
	}
	q := r.URL.Query()
	space := q.Get("space")
	if space == "" {
		space = config.RootSpace
	}
	cat := c.cfg.Catalog.Load()
	if _, ok := cat.Space(space); !ok {
		fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeNotFound, "No space with id %q.", space))
		return
	}
	if err := cat.Access().Allowed(p, config.ActionAuditRead, space); err != nil {
		c.refuse(w, r, Event{Actor: "api_key:" + p.KeyID, Action: "audit.read", Space: space}, err)
		return
	}
	limit := DefaultAuditLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAuditLimit {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Parameter \"limit\" must be a whole number from 1 to %d.", MaxAuditLimit))
			return
		}
		limit = n
	}
	events, next, err := c.cfg.Audit.List(r.Context(), space, q.Get("after"), limit)
	if errors.Is(err, audit.ErrBadCursor) {
		err = apierror.New(apierror.CodeInvalidRequest, "Parameter \"after\" is not a cursor this endpoint returned.")
	}
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, auditResponse{Events: events, Next: next})
}
