package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/ratelimit"
)

// Guard refuses client addresses that presented too many bad credentials (run tokens or API
// keys) with 429, and counts each new failure. The counts live in the Limiter, which replicas
// share through Redis.
type Guard struct {
	Limiter ratelimit.Limiter
	Logger  *slog.Logger
	// TrustedProxies are the peers whose X-Forwarded-For names the client (see clientAddr).
	TrustedProxies []netip.Prefix
}

// Check returns a 429 error while r's address is cooling off.
func (g *Guard) Check(r *http.Request) error {
	if g == nil || g.Limiter == nil {
		return nil
	}
	wait, err := g.Limiter.Blocked(r.Context(), sourceKey(r, g.TrustedProxies))
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		return &apierror.Error{
			Code:       apierror.CodeRateLimited,
			Message:    "Too many failed authentication attempts from this address; retry after " + (time.Duration(secs) * time.Second).String() + ".",
			RetryAfter: secs,
		}
	}
	return nil
}

// Failed counts a failed authentication of r's address. A limiter that cannot count is logged,
// not fatal: the request is already being refused.
func (g *Guard) Failed(r *http.Request) {
	if g == nil || g.Limiter == nil {
		return
	}
	// Count even if the client went away mid-request.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	source := sourceKey(r, g.TrustedProxies)
	if err := g.Limiter.Failed(ctx, source); err != nil && !errors.Is(err, context.Canceled) {
		g.Logger.Warn("could not count a failed authentication", "source", source, "err", err)
	}
}
