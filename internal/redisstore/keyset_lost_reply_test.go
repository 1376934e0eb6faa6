package redisstore_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// saveCase is a store whose Save is a compare-and-swap on a generation: save stores
// generation 1 through a client, loaded reads the stored generation back, and marker is found
// in the save's command only.
type saveCase struct {
	name   string
	marker string
	save   func(ctx context.Context, c *redisstore.Client) error
	loaded func(ctx context.Context, c *redisstore.Client) (int64, error)
}

// TestKeySetSaveWhoseReplyIsLost: when Redis applies a key set's compare-and-swap and the
// connection drops before its reply, the client sends the call again and Save answers that the
// set was saved (as Create, a catalog Commit and an audit Append do), not keys.ErrConflict,
// which would tell the keys.Manager (and `broker keys rotate`) that another replica won.
func TestKeySetSaveWhoseReplyIsLost(t *testing.T) {
	kek := newKEK(t)
	key := keystest.NewKey(t, keys.ES256, keysEpoch)
	for _, tc := range []saveCase{
		{
			name:   "sealed key set",
			marker: "ciphertext",
			save: func(ctx context.Context, c *redisstore.Client) error {
				return c.Keys(kek).Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{key}})
			},
			loaded: func(ctx context.Context, c *redisstore.Client) (int64, error) {
				set, err := c.Keys(kek).Load(ctx)
				return set.Generation, err
			},
		},
		{
			name:   "vault-transit metadata",
			marker: "lost-reply-transit-key",
			save: func(ctx context.Context, c *redisstore.Client) error {
				rec := vaulttransit.Record{Meta: key.Meta, TransitKey: "lost-reply-transit-key", TransitVersion: 1}
				return c.TransitMeta().Save(ctx, vaulttransit.Records{
					Generation: 1, Keys: []vaulttransit.Record{rec},
				})
			},
			loaded: func(ctx context.Context, c *redisstore.Client) (int64, error) {
				recs, err := c.TransitMeta().Load(ctx)
				return recs.Generation, err
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := redistest.Start(t)
			if err := tc.save(ctx, open(t, srv, uniquePrefix(), suiteTimeout)); err != nil {
				t.Fatalf("warm-up Save: %v", err) // loads the script
			}
			prefix := uniquePrefix()
			addr := dropProxy(t, srv.Addr(), []byte(tc.marker))
			c, err := redisstore.Open(redisstore.Options{
				URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tc.save(ctx, c)
			gen, lerr := tc.loaded(ctx, open(t, srv, prefix, suiteTimeout))
			if lerr != nil || gen != 1 {
				t.Fatalf("the store after the lost reply: generation %d, %v; want 1", gen, lerr)
			}
			if err != nil {
				t.Errorf("Save whose reply was lost answered %v; the set it saved is stored", err)
			}
		})
	}
}
