package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestUnavailableCatalogLimiterPairAudit pins that, with Redis out of reach, the catalog's
// Load, Head and Commit, the limiter's pair path and the audit trail's List, Head and
// AppendCheckpoint fail fast with an error wrapping their package's unavailability sentinel
// (and redisstore.ErrUnavailable): callers tell an outage from a refusal or a corrupt store by
// it, and a rate-limit check that cannot reach Redis must not pass for "not blocked".
// Guards against: catalog.ErrUnavailable wrapping dropped (catalog.go:catalogStore.fail)
// Guards against: FailedPair error swallowed as "not blocked" (limiter.go:FailedPair)
// Guards against: ratelimit.ErrUnavailable wrapping dropped (limiter.go:limiter.fail)
// Guards against: audit.ErrUnavailable wrapping dropped (audit.go:auditStore.fail)
func TestUnavailableCatalogLimiterPairAudit(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), outageTimeout)
	cat, trail := c.Catalog(), c.Audit()
	pair, ok := c.Limiter(ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: time.Minute}).(ratelimit.PairLimiter)
	if !ok {
		t.Fatal("the Redis limiter is not a PairLimiter")
	}
	srv.Stop()
	checkUnavailable(t, []outageCall{
		{"Catalog.Load", catalog.ErrUnavailable, func(ctx context.Context) error { _, err := cat.Load(ctx); return err }},
		{"Catalog.Head", catalog.ErrUnavailable, func(ctx context.Context) error { _, err := cat.Head(ctx); return err }},
		{"Catalog.Commit", catalog.ErrUnavailable, func(ctx context.Context) error {
			_, err := cat.Commit(ctx, catalog.Head{}, nil)
			return err
		}},
		{"Limiter.FailedPair", ratelimit.ErrUnavailable, func(ctx context.Context) error {
			_, err := pair.FailedPair(ctx, "ip:10.0.0.9", "cred:outage")
			return err
		}},
		{"Audit.List", audit.ErrUnavailable, func(ctx context.Context) error {
			_, _, err := trail.List(ctx, "prod", "", 10)
			return err
		}},
		{"Audit.Head", audit.ErrUnavailable, func(ctx context.Context) error { _, err := trail.Head(ctx); return err }},
	}, nil)
}
