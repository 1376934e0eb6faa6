package vaulttransit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestAdoptHoldsEveryUnpublishedVersion: a version rotated in Vault behind broker's back, which
// no JWKS served, is not always the latest: another follows it, rotated in Vault or by broker.
// A restart (metadata in memory) soon after does not sign with it at once: each version after
// the first is published for Prepublish from the adoption before it signs, and meanwhile the
// version broker had published signs.
func TestAdoptHoldsEveryUnpublishedVersion(t *testing.T) {
	v, token := startVault(t)
	root := v.Client()
	const prepublish, retain = time.Second, time.Hour
	for _, c := range []struct {
		name string
		// thirdByBroker: version 3 is broker's own rotation, else Vault's too.
		thirdByBroker bool
	}{
		{"both rotated in Vault", false},
		{"rotated in Vault then by broker", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			name := uniqueKey()
			running := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256})
			first, err := running.Generate(ctx, keys.ES256, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := running.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{first}}); err != nil {
				t.Fatal(err)
			}
			if _, err := root.Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
				t.Fatal(err)
			}
			if c.thirdByBroker {
				if _, err := running.Generate(ctx, keys.ES256, time.Now()); err != nil {
					t.Fatal(err)
				}
			} else if _, err := root.Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
				t.Fatal(err)
			}

			at := time.Now().Add(5 * time.Second) // every version's creation plus prepublish has passed
			now := func() time.Time { return at }
			restarted := newBackend(t, v, token, vaulttransit.Config{
				Key: name, Alg: keys.ES256, Adopt: true, Prepublish: prepublish, Retain: retain, Now: now,
			})
			set := load(t, restarted)
			if len(set.Keys) != 3 || set.Keys[0].KID != first.KID {
				t.Fatalf("adopted %v, want the 3 versions, broker's published %s first", set.Metas(), first.KID)
			}
			unpublished := set.Keys[1]
			if unpublished.Activates.Before(at.Add(prepublish)) {
				t.Errorf("version 2 %s, which no JWKS served, signs from %s, %s after the adoption published it (prepublish %s)",
					unpublished.KID, unpublished.Activates, unpublished.Activates.Sub(at), prepublish)
			}
			m, err := keys.NewManager(keys.Config{
				Backend: restarted,
				Policy:  keys.Policy{Period: 24 * time.Hour, Prepublish: prepublish, Retain: retain, Alg: keys.ES256},
				Now:     now,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := m.Snapshot().Signing.KID; got != first.KID {
				t.Errorf("the restarted manager signs at once with %s, want %s, the version broker had published (version 2 is %s)",
					got, first.KID, unpublished.KID)
			}
		})
	}
}
