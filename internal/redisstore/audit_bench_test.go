package redisstore_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/audit/audittest"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// BenchmarkAuditAppend is the Redis store's append of a token event (group-committed script
// calls to a local redis-server), from every core; skipped without redis-server.
func BenchmarkAuditAppend(b *testing.B) {
	srv := redistest.Start(b)
	audittest.BenchAppend(b, open(b, srv, uniquePrefix(), suiteTimeout).Audit())
}
