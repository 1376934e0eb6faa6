package audittest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/keys"
)

// KeySetFactory returns two views (two replicas) of one fresh, empty audit.KeySetStore.
type KeySetFactory func(t *testing.T) (a, b audit.KeySetStore)

// TestKeySet checks: nothing is found before the first save; each save replaces what is kept,
// for every view of the store; the set loaded is a copy the caller may change.
func TestKeySet(t *testing.T, newKeySet KeySetFactory) {
	ctx := context.Background()
	a, b := newKeySet(t)
	if set, found, err := a.LoadKeySet(ctx); err != nil || found {
		t.Fatalf("LoadKeySet before any save = %+v, %v, %v; want none", set, found, err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for gen := int64(1); gen <= 2; gen++ {
		want := keys.SetMeta{Generation: gen, Keys: []keys.Meta{
			{KID: "old", Alg: keys.ES256, Created: at, Activates: at, Retires: at.Add(time.Duration(gen) * time.Hour)},
			{KID: "new", Alg: keys.RS256, Created: at.Add(time.Minute), Activates: at.Add(time.Hour)},
		}}
		if err := a.SaveKeySet(ctx, want); err != nil {
			t.Fatalf("SaveKeySet: %v", err)
		}
		got, found, err := b.LoadKeySet(ctx)
		if err != nil || !found || !reflect.DeepEqual(got, want) {
			t.Fatalf("LoadKeySet after saving generation %d = %+v, %v, %v; want %+v", gen, got, found, err, want)
		}
		got.Keys[0].KID = "changed by the caller"
		if again, _, _ := b.LoadKeySet(ctx); !reflect.DeepEqual(again, want) {
			t.Fatalf("a caller's change to a loaded set reached the store: %+v", again)
		}
	}
	testSaveCopies(t, newKeySet)
}

// testSaveCopies checks: a set saved is kept as it was when saved; a caller's later change
// to the slice it passed does not reach the store.
func testSaveCopies(t *testing.T, newKeySet KeySetFactory) {
	ctx := context.Background()
	a, b := newKeySet(t)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := keys.SetMeta{Generation: 7, Keys: []keys.Meta{{KID: "k1", Alg: keys.ES256, Created: at, Activates: at}}}
	saved := want
	saved.Keys = append([]keys.Meta(nil), want.Keys...)
	if err := a.SaveKeySet(ctx, saved); err != nil {
		t.Fatal(err)
	}
	saved.Keys[0].KID = "changed by the caller after saving"
	if got, found, err := b.LoadKeySet(ctx); err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadKeySet after the caller changed the set it saved = %+v, %v, %v; want %+v", got, found, err, want)
	}
}
