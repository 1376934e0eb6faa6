package vaulttransit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestMemoryMetaRefusesEndedContext pins that MemoryMeta's Load and Save fail with the
// context's error once it has ended, and such a Save stores nothing.
// Guards against: ctx check dropped in meta.go:MemoryMeta.Load
// Guards against: ctx check dropped in meta.go:MemoryMeta.Save
func TestMemoryMetaRefusesEndedContext(t *testing.T) {
	m := vaulttransit.NewMemoryMeta()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with an ended context = %v, want context.Canceled", err)
	}
	if err := m.Save(ctx, vaulttransit.Records{Generation: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with an ended context = %v, want context.Canceled", err)
	}
	if recs, err := m.Load(context.Background()); err != nil || recs.Generation != 0 {
		t.Errorf("after a Save with an ended context, Load = generation %d, %v; want 0", recs.Generation, err)
	}
}

// TestMemoryMetaCopiesRecords pins that MemoryMeta shares no slice with its callers:
// changing the records given to Save, or those Load returned, leaves the stored ones as saved.
// Guards against: Keys not cloned in meta.go:MemoryMeta.Load
// Guards against: Keys not cloned in meta.go:MemoryMeta.Save
// Guards against: Revoked not cloned in meta.go:MemoryMeta.Load
func TestMemoryMetaCopiesRecords(t *testing.T) {
	ctx := context.Background()
	m := vaulttransit.NewMemoryMeta()
	at := time.Unix(1_700_000_000, 0)
	next := vaulttransit.Records{
		Generation: 1,
		Keys:       []vaulttransit.Record{{Meta: keys.Meta{KID: "kid-a", Alg: keys.ES256, Created: at, Activates: at}, TransitKey: "k", TransitVersion: 1}},
		Revoked:    []keys.Revocation{{KID: "kid-old"}},
	}
	if err := m.Save(ctx, next); err != nil {
		t.Fatal(err)
	}
	next.Keys[0].TransitVersion = 9
	first, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first.Keys[0].KID = "kid-changed"
	first.Revoked[0].KID = "kid-changed"
	again, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Keys[0].KID != "kid-a" || again.Keys[0].TransitVersion != 1 || again.Revoked[0].KID != "kid-old" {
		t.Errorf("stored records changed by their callers: %+v, revoked %+v", again.Keys[0], again.Revoked)
	}
}
