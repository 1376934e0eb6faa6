package redisstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestTransitMetaSaveOverCorrupted pins that saving the vault-transit key set over a
// stored value that is not a key set fails with ErrKeySetCorrupted, as Load of the same value
// does: not as a lost race (a conflict invites a reload and a retry) nor as a bare script
// error, and leaves the value in place.
// Guards against: corrupted value answered as a conflict (transit.go:saveTransitMetaScript)
func TestTransitMetaSaveOverCorrupted(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	key := prefix + "{transit}:keyset"
	for _, raw := range []string{`{garbage`, `[]`, `{"format":1,"generation":"1"}`} {
		if err := srv.Client().Set(ctx, key, raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := open(t, srv, prefix, suiteTimeout).TransitMeta().Save(ctx, vaulttransit.Records{Generation: 1})
		if !errors.Is(err, redisstore.ErrKeySetCorrupted) || errors.Is(err, keys.ErrConflict) {
			t.Errorf("Save over %s = %v; want ErrKeySetCorrupted, not ErrConflict", raw, err)
		}
		if got, err := srv.Client().Get(ctx, key).Result(); err != nil || got != raw {
			t.Errorf("Save over %s left %q, %v; want it unchanged", raw, got, err)
		}
	}
}
