package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// overtakingStore is a Store whose next Commit, once armed, commits and then runs after
// (another replica's change and this replica's refresh) before it answers.
type overtakingStore struct {
	catalog.Store
	after func()
}

func (s *overtakingStore) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	head, err := s.Store.Commit(ctx, at, changes)
	if f := s.after; f != nil && err == nil {
		s.after = nil
		f()
	}
	return head, err
}

// TestInstallKeepsANewerCatalogInForce: when a refresh puts a newer store state in force
// between a change's commit and its install (the change, and another replica's deletion of an
// API key after it), the change's own catalog, built before that deletion, is not installed
// over it: the deleted key stays gone and the change stays in.
// Guards against: install drops the m.head != p.at check (apply.go:Manager.install)
func TestInstallKeepsANewerCatalogInForce(t *testing.T) {
	ctx := context.Background()
	mem := catalog.NewMemory()
	store := &overtakingStore{Store: mem}
	a, b := newManager(t, store), newManager(t, mem)
	key := config.APIKey{ID: "ci", SecretSHA256: strings.Repeat("ab", 32),
		Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}
	keyRef := catalog.Ref{Kind: catalog.KindAPIKey, ID: "ci"}
	mustApply(t, a, catalog.Mutation{Ref: keyRef, Object: key})
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	store.after = func() {
		mustApply(t, b, catalog.Mutation{Ref: keyRef})
		if err := a.Refresh(ctx); err != nil {
			t.Error(err)
		}
	}
	mustApply(t, a, stackPut(config.Stack{ID: "web", Space: "prod"}))
	c := a.Live().Load()
	if _, ok := c.APIKey("ci"); ok {
		t.Errorf("the API key another replica deleted is in force again on this replica (catalog revision %d)", c.Revision())
	}
	if _, ok := c.Stack("web"); !ok {
		t.Errorf("the change committed is not in force")
	}
}
