package api

import (
	"errors"
	"net/http"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// unknownActor is the actor of a request whose API key could not be authenticated.
const unknownActor = "unknown"

// refuse answers err in the envelope and, when err is a 401, a 403 or a run hidden from the key
// (answered 404), records the refusal of
// attempt (its Action, and the Actor and Run or Space as far as they are known) as denied.
//
// A 401 names no key: its actor is unknownActor, it is filed under root, and its detail is the
// reason (missing, malformed or unknown credential) and the client address, never any part of
// what was presented. It cannot become a cheap way to flood the trail: a 401 is only reached once
// the failed-auth guard has let the address through, and each one counts against the address,
// so an address adds at most the guard's failure budget per window before it gets 429s, which
// are not audited.
func (c *Control) refuse(w http.ResponseWriter, r *http.Request, attempt Event, err error) {
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		c.recordUnauthenticated(r, attempt, err)
		fail(w, r, c.cfg.Logger, err)
		return
	case errors.Is(err, access.ErrForbidden), errors.Is(err, errHiddenRun):
		attempt.Detail = err.Error()
	default:
		fail(w, r, c.cfg.Logger, err)
		return
	}
	attempt.Outcome = "denied"
	recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, attempt)
	fail(w, r, c.cfg.Logger, err)
}

// recordUnauthenticated records attempt, refused with err (access.ErrUnauthenticated), as a
// denied event of no known actor filed under root and naming the client's address: which key
// was presented is unknown, and a guess names nothing of it.
func (c *Control) recordUnauthenticated(r *http.Request, attempt Event, err error) {
	attempt.Actor, attempt.Run, attempt.Space = unknownActor, runs.Run{}, config.RootSpace
	attempt.Detail = err.Error() + " (from " + c.cfg.Guard.Client(r) + ")"
	attempt.Outcome = "denied"
	recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, attempt)
}
