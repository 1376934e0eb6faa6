package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestChangeErrorNamesField: a refusal's text names the field at fault before its
// problems, joined by semicolons; one of the whole object has no field; either unwraps to its
// kind of refusal.
// Guards against: ChangeError.Error leaving out the field
func TestChangeErrorNamesField(t *testing.T) {
	cases := []struct {
		err  *catalog.ChangeError
		want string
	}{
		{&catalog.ChangeError{Kind: catalog.ErrInvalid, Field: "labels[0]",
			Messages: []string{"bad", "worse"}}, "labels[0]: bad; worse"},
		{&catalog.ChangeError{Kind: catalog.ErrConflict, Messages: []string{"in use"}}, "in use"},
	}
	for _, tc := range cases {
		is := errors.Is(tc.err, tc.err.Kind)
		if got := tc.err.Error(); got != tc.want || !is {
			t.Errorf("Error() = %q (is %v: %v), want %q", got, tc.err.Kind, is, tc.want)
		}
	}
}

// TestRefusalTellsOnlyTheFieldItNames: a changed object with problems in several fields is
// refused naming the first field at fault, with that field's problems only.
// Guards against: classify telling the problems of every field under the first one's name
func TestRefusalTellsOnlyTheFieldItNames(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	bad := config.Stack{ID: "app", Space: "prod", Labels: []string{"Bad!", "Worse!"}}
	err := putObject(t, m, bad)
	var ce *catalog.ChangeError
	if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("stack with two invalid labels = %v, want invalid", err)
	}
	if len(ce.Messages) != 1 || strings.Contains(ce.Error(), "Worse!") {
		t.Errorf("refusal naming field %q tells %q, want only that field's problem",
			ce.Field, ce.Messages)
	}
}

// TestStoredRecordUnderAnotherID: a stored record whose object names another id than the
// record's is refused on load, not taken as an object under either id.
// Guards against: decodeRecords without the check that the object's reference is the record's
func TestStoredRecordUnderAnotherID(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	body, err := config.EncodeJSON(config.Stack{ID: "b", Space: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	rec := catalog.Record{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "a"},
		Version: 1, Created: 1, Body: body}
	if _, err := store.Commit(ctx, catalog.Head{}, []catalog.Change{{Record: rec}}); err != nil {
		t.Fatal(err)
	}
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
	if err == nil {
		_, inA := m.Live().Load().Stack("a")
		_, inB := m.Live().Load().Stack("b")
		t.Errorf("a store holding stack b under id a loaded (a in force %v, b in force %v), "+
			"want refused", inA, inB)
	}
}
