package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestMovedSpaceForgetsDeletedIDsOfItsWholeSubtree: once a space moves, a stack deleted from a
// space below it (not only from the moved space itself) comes back only through the configuration
// file, never through the API, not even in the place it left.
// Guards against: tombstone.go:114 forgetPlaces `place != id && !cur.Within(place, id)` -> `place
// != id`
// Guards against: apply.go:258 forgetPlaces call on a space move dropped
func TestMovedSpaceForgetsDeletedIDsOfItsWholeSubtree(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	put := func(obj any) error { return putObject(t, m, obj) }
	for _, obj := range []any{
		config.Space{ID: "team", Parent: "prod"},
		config.Space{ID: "team-eu", Parent: "team"},
		config.Stack{ID: "old", Space: "team-eu"},
	} {
		if err := put(obj); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "old"}}); err != nil {
		t.Fatal(err)
	}
	// "team" (with "team-eu" under it) moves to another line of administration.
	if err := put(config.Space{ID: "team", Parent: "root"}); err != nil {
		t.Fatal(err)
	}
	err := put(config.Stack{ID: "old", Space: "team-eu"})
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("stack %q given again under a moved space's subtree = %v, want a conflict", "old", err)
	}
	if _, ok := m.Live().Load().Stack("old"); ok {
		t.Error("the deleted stack's id came back through the API after its space's ancestor moved")
	}
}

// putObject applies obj as a put through the API.
func putObject(t *testing.T, m *catalog.Manager, obj any) error {
	t.Helper()
	ref, err := catalog.RefOf(obj)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(context.Background(), catalog.Mutation{Ref: ref, Object: obj})
	return err
}

// TestChangeBreakingAnotherObjectIsAConflict: a change valid in itself that breaks another object
// (a space no longer inheriting, so a stack below loses the integration it is attached to) is
// refused as a conflict (409) naming the object it breaks, not as an invalid body (400), and
// changes nothing.
// Guards against: change.go:111 classify `out := &ChangeError{Kind: ErrConflict}` -> ErrInvalid
func TestChangeBreakingAnotherObjectIsAConflict(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	put := func(obj any) error { return putObject(t, m, obj) }
	for _, obj := range []any{
		config.Space{ID: "team", Parent: "prod", Inherit: true},
		config.Stack{ID: "app", Space: "team"},
		awsIn("aws-prod", "prod"),
		config.Attachment{Stack: "app", Integration: "aws-prod", Read: true},
	} {
		if err := put(obj); err != nil {
			t.Fatalf("put %T: %v", obj, err)
		}
	}
	err := put(config.Space{ID: "team", Parent: "prod", Inherit: false})
	var ce *catalog.ChangeError
	if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("a space change that breaks an attachment below = %v, want a conflict", err)
	}
	if !strings.Contains(err.Error(), `"app"`) {
		t.Errorf("the conflict %q does not name the stack it breaks", err)
	}
	if s, _ := m.Live().Load().Space("team"); !s.Inherit {
		t.Error("the refused change is in force")
	}
}

// TestConfirmNeverMovesBack: a read sent earlier but confirmed after a later one does not move the
// catalog's confirmation back, so a slow reply cannot make a current replica look stale (and answer
// 503).
// Guards against: live.go:45 Confirm `c >= int64(at) || CompareAndSwap` -> `CompareAndSwap`
func TestConfirmNeverMovesBack(t *testing.T) {
	for catalog.StartReading() < catalog.Reading(200*time.Millisecond) {
		time.Sleep(10 * time.Millisecond)
	}
	l := catalog.NewLive(nil)
	early := catalog.Reading(1)
	l.Confirm(catalog.StartReading())
	l.Confirm(early) // a read sent long before, answered late
	if age := l.Stale(100 * time.Millisecond); age != 0 {
		t.Errorf("Stale = %v after a current confirmation, want 0", age)
	}
}
