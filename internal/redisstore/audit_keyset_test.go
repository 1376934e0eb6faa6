package redisstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// The record of the key set the trail last recorded: none at first, then what was saved last,
// for every client of the prefix, in <prefix>audit:keyset (in the trail's hash slot on a
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
			if set, found, err := a.AuditKeySet().LoadKeySet(ctx); err != nil || found {
				t.Fatalf("LoadKeySet before any save = %+v, %v, %v; want none", set, found, err)
			}
			at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			for gen := int64(1); gen <= 2; gen++ {
				want := keys.SetMeta{Generation: gen, Keys: []keys.Meta{
					{KID: "old", Alg: keys.ES256, Created: at, Activates: at, Retires: at.Add(time.Duration(gen) * time.Hour)},
					{KID: "new", Alg: keys.RS256, Created: at.Add(time.Minute), Activates: at.Add(time.Hour)},
				}}
				if err := a.AuditKeySet().SaveKeySet(ctx, want); err != nil {
					t.Fatalf("SaveKeySet: %v", err)
				}
				got, found, err := b.AuditKeySet().LoadKeySet(ctx)
				if err != nil || !found || !reflect.DeepEqual(got, want) {
					t.Fatalf("LoadKeySet = %+v, %v, %v; want %+v", got, found, err, want)
				}
			}
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
