package catalogtest

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// Seed commits objs into the empty store s as one change, each at version 1 and created at 1:
// objects as an older build stored them, which today's rules may refuse.
func Seed(t testing.TB, s catalog.Store, objs ...any) {
	t.Helper()
	changes := make([]catalog.Change, 0, len(objs))
	for _, obj := range objs {
		ref, err := catalog.RefOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		body, err := config.EncodeJSON(obj)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, catalog.Change{Record: catalog.Record{Ref: ref, Version: 1, Created: 1, Body: body}})
	}
	if _, err := s.Commit(context.Background(), catalog.Head{}, changes); err != nil {
		t.Fatal(err)
	}
}
