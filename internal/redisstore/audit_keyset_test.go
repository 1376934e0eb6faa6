package redisstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// The record of the key set the trail last recorded passes the KeySetStore contract suite for
// two clients of one prefix, and is kept in <prefix>audit:keyset (in the trail's hash slot on a
// Cluster); a record that is not one is an error, not a record.
func TestAuditKeySetRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	cl := cluster(t)
	for _, tc := range []struct {
		name string
		open func(prefix string) *redisstore.Client
		key  string
	}{
		{"server", func(p string) *redisstore.Client { return open(t, srv, p, suiteTimeout) }, "audit:keyset"},
		{"cluster", func(p string) *redisstore.Client { return openCluster(t, cl, p) }, "{audit}:audit:keyset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := uniquePrefix()
			a, b := tc.open(prefix), tc.open(prefix)
			audittest.TestKeySet(t, func(*testing.T) (audit.KeySetStore, audit.KeySetStore) { return a.AuditKeySet(), b.AuditKeySet() })
			if n, err := a.Redis().Exists(ctx, prefix+tc.key).Result(); err != nil || n != 1 {
				t.Fatalf("key %s%s: exists %d, %v", prefix, tc.key, n, err)
			}
			if err := a.Redis().Set(ctx, prefix+tc.key, `{"format":9}`, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := a.AuditKeySet().LoadKeySet(ctx); !errors.Is(err, redisstore.ErrAuditKeySetCorrupted) {
				t.Errorf("LoadKeySet of a record of another format = %v, want ErrAuditKeySetCorrupted", err)
			}
		})
	}
}
