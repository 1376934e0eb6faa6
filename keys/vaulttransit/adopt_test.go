package vaulttransit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// A restart with the metadata in memory keeps the keys relying parties trust: with Adopt and an
// empty set, the versions Transit holds become the set, the same on every start, the latest
// signing and the older ones published until Retain after their successor took over.
func TestAdoptTransitVersions(t *testing.T) {
	v, token := startVault(t)
	name := uniqueKey()
	root := v.Client()
	if _, err := root.Logical().Write(mount+"/keys/"+name, map[string]any{"type": "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := root.Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
			t.Fatal(err)
		}
	}
	const prepublish = time.Second
	now := func() time.Time { return time.Now().Add(5 * time.Second) }
	adopted := func(retain time.Duration) keys.Set {
		b := newBackend(t, v, token, vaulttransit.Config{
			Key: name, Alg: keys.ES256, Adopt: true, Prepublish: prepublish, Retain: retain, Now: now,
		})
		set, err := b.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return set
	}

	set := adopted(time.Hour)
	if set.Generation != 1 || len(set.Keys) != 3 {
		t.Fatalf("adopted generation %d with %d keys, want 1 with the 3 versions", set.Generation, len(set.Keys))
	}
	for i, k := range set.Keys {
		keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())
		if !k.Activates.Equal(k.Created.Add(prepublish)) {
			t.Errorf("key %d activates %s, want its creation %s plus prepublish", i, k.Activates, k.Created)
		}
		if i > 0 && !set.Keys[i-1].Retires.Equal(k.Activates) {
			t.Errorf("key %d retires %s, want its successor's activation %s", i-1, set.Keys[i-1].Retires, k.Activates)
		}
	}
	if signing, _ := keys.Signing(now(), set.Metas(), keys.ES256); signing.KID != set.Keys[2].KID {
		t.Fatalf("adopted set signs with %s, want the latest version %s", signing.KID, set.Keys[2].KID)
	}
	again := adopted(time.Hour)
	for i := range set.Keys {
		if !keystest.SameMeta(again.Keys[i].Meta, set.Keys[i].Meta) {
			t.Fatalf("second adoption differs at key %d: %+v, first %+v", i, again.Keys[i].Meta, set.Keys[i].Meta)
		}
	}
	if short := adopted(0); len(short.Keys) != 1 || short.Keys[0].KID != set.Keys[2].KID {
		t.Fatalf("with retain 0 adopted %v, want only the latest version", short.Metas())
	}
	if plain := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256}); len(load(t, plain).Keys) != 0 {
		t.Fatal("without Adopt, the backend adopted Transit's versions")
	}
}

func load(t *testing.T, b keys.Backend) keys.Set {
	t.Helper()
	set, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return set
}
