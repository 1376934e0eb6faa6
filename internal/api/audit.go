package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
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
	if err := onlyParams(r, "space", "after", "limit"); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	q := r.URL.Query()
	space := q.Get("space")
	if space == "" {
		space = config.RootSpace
	}
	if !config.IDPattern.MatchString(space) {
		// No space has such an id, and a refusal would carry it, whatever its size, into the
		// trail.
		fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Parameter \"space\" must be a space id (%s).", config.IDPattern))
		return
	}
	cat := c.cfg.Catalog.Load()
	if err := cat.Access().Allowed(p, config.ActionAuditRead, space); err != nil {
		// An unknown space is refused as a space the key may not read, so that the answer
		// says nothing of which ids exist; only a key that may read root learns it is unknown.
		if _, ok := cat.Space(space); !ok && cat.Access().Allowed(p, config.ActionAuditRead, config.RootSpace) == nil {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeNotFound, "No space with id %q.", space))
			return
		}
		c.refuse(w, r, Event{Actor: "api_key:" + p.KeyID, Action: "audit.read", Space: space}, err)
		return
	}
	limit := DefaultAuditLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		// One spelling per number, as cursors have: no sign, no leading zero.
		if err != nil || strconv.Itoa(n) != v || n < 1 || n > MaxAuditLimit {
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
	// From when the space took its place: it, or an ancestor, was created or moved then; what
	// it recorded before is its old place's to list.
	if placed := cat.SpacePlaced(space); !placed.IsZero() {
		events = since(events, placed, stillPlaced(cat))
	}
	writeJSON(w, http.StatusOK, auditResponse{Events: events, Next: next})
}

// since keeps the events recorded from created on. Events are listed by space id, and an id
// may have belonged to a space deleted before this one was created, elsewhere in the tree:
// those events are its old parent's to list, not this space's. An event naming a run whose stack
// is still where the run began (placed) is this space's from the later of when it was recorded
// and when the run began (a run's id holds when it began, in milliseconds, as created is): the
// first events of a run begun as the space took its place stay in. Any other run's event (a run
// of a space deleted since, whose stack went with it) counts from the earlier of the two, so a
// later event about it stays out. A page may come back shorter than asked, or empty, with a
// cursor to go on.
func since(events []audit.Event, created time.Time, placed func(stack, space string, began time.Time) bool) []audit.Event {
	kept := make([]audit.Event, 0, len(events)) // never in place: the store may own the array
	for _, e := range events {
		t, err := time.Parse(time.RFC3339Nano, e.Time)
		if id, idErr := ulid.ParseStrict(e.Run); idErr == nil && err == nil {
			// A run whose stack is still where it began is this space's (moved or not): its
			// events are, from when it began or when they were recorded. Another run (of a
			// space deleted since) is dated by the earlier of the two.
			began := ulid.Time(id.Time())
			if placed(e.Stack, e.Space, began) {
				t = maxTime(t, began)
			} else {
				t = minTime(t, began)
			}
		}
		if err != nil || !t.Before(created) {
			kept = append(kept, e)
		}
	}
	return kept
}

// maxTime is the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// minTime is the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// stillPlaced reports whether stack is in space as it was when a run began on it: a space
// deleted held no stack, so a run of a space made again under its id has no stack there.
func stillPlaced(cat *catalog.Catalog) func(stack, space string, began time.Time) bool {
	return func(stack, space string, began time.Time) bool {
		if sp, ok := cat.StackSpace(stack); !ok || sp != space {
			return false
		}
		m, _ := cat.Meta(catalog.Ref{Kind: catalog.KindStack, ID: stack})
		return !began.Before(m.Created)
	}
}
