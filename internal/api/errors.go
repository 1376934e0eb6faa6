package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// fail answers err in the envelope. Errors already meant for the caller pass as they are; known
// domain errors get their code; anything else is logged here and answered with a generic message.
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var apiErr *apierror.Error
	switch {
	case errors.As(err, &apiErr):
	case r.Context().Err() != nil:
		// The client went away while the request waited (on the store, an upstream): nobody
		// receives the answer, and it is no fault of the server's, so neither an error line
		// nor a 5xx.
		log.DebugContext(r.Context(), "request abandoned by its client", "path", loggedPath(r), "err", loggedError(r, err))
		apiErr = apierror.New(apierror.CodeClientClosed, "The client closed the request before its answer.")
	case errors.Is(err, access.ErrUnauthenticated):
		apiErr = apierror.New(apierror.CodeUnauthenticated, "A valid API key is required: send it as Authorization: Bearer <secret>.")
	case errors.Is(err, access.ErrForbidden):
		apiErr = apierror.New(apierror.CodeForbidden, "%s.", capitalize(err.Error()))
	case errors.Is(err, runs.ErrNotFound):
		apiErr = apierror.New(apierror.CodeNotFound, "No run with id %q.", r.PathValue("id"))
	case errors.Is(err, runs.ErrTransition):
		apiErr = apierror.New(apierror.CodeConflict, "%s.", capitalize(err.Error()))
	case errors.Is(err, keys.ErrUnavailable):
		log.ErrorContext(r.Context(), "signing key service unavailable", "path", loggedPath(r), "err", loggedError(r, err))
		apiErr = apierror.New(apierror.CodeUnavailable, "The signing key service is unreachable; try again shortly.")
	case errors.Is(err, runs.ErrUnavailable), errors.Is(err, ratelimit.ErrUnavailable),
		errors.Is(err, audit.ErrUnavailable), errors.Is(err, catalog.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		log.ErrorContext(r.Context(), "store unavailable", "path", loggedPath(r), "err", loggedError(r, err))
		apiErr = apierror.New(apierror.CodeUnavailable, "The state store is unreachable; try again shortly.")
	default:
		log.ErrorContext(r.Context(), "request failed", "path", loggedPath(r), "err", loggedError(r, err))
		apiErr = apierror.New(apierror.CodeInternal, "Internal error; the server log has the details.")
	}
	apierror.Write(w, apiErr)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
