package redisstore_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestAuditContract(t *testing.T) {
	srv := redistest.Start(t)
	audittest.TestStore(t, func(t *testing.T) (audit.Store, audit.Store) {
		open := func() audit.Store {
			c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "audit-" + t.Name() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c.Audit()
		}
		return open(), open() // two replicas on one Redis
	})
}
