package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestStoreWithADeepTreeStillTakesChanges: a store written before spaces were limited to
// config.MaxSpaceDepth may hold a deeper tree (here 33: root, s1..s32). Its replica starts,
// reloads, and takes every change but one that places a space deeper still: deleting an API key
// (revoking a leaked one) and creating a role pass; a space under s32, or a subtree moved below
// s30 that would reach past the limit, is refused naming the depth.
func TestStoreWithADeepTreeStillTakesChanges(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	var changes []catalog.Change
	parent := "root"
	for i := 1; i <= 32; i++ {
		sp := config.Space{ID: fmt.Sprintf("s%d", i), Parent: parent}
		body, err := config.EncodeJSON(sp)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: sp.ID}, Version: 1, Created: 1, Body: body}})
		parent = sp.ID
	}
	key := config.APIKey{ID: "leaked", SecretSHA256: hashHex("leaked-secret"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}
	body, err := config.EncodeJSON(key)
	if err != nil {
		t.Fatal(err)
	}
	changes = append(changes, catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "leaked"}, Version: 1, Created: 1, Body: body}})
	if _, err := store.Commit(ctx, catalog.Head{}, changes); err != nil {
		t.Fatal(err)
	}
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatalf("a replica on a store holding a 33-deep tree refuses to start: %v", err)
	}
	if _, err := m.Reload(ctx, file()); err != nil {
		t.Errorf("reloading the same file on a store holding a 33-deep tree: %v", err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "leaked"}}); err != nil {
		t.Errorf("deleting an API key on a store holding a 33-deep tree: %v", err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "zz-role"}, Object: config.Role{ID: "zz-role", Actions: []string{config.ActionRunRead}}}); err != nil {
		t.Errorf("creating an unrelated role on a store holding a 33-deep tree: %v", err)
	}
	for _, mu := range []catalog.Mutation{
		{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "s33"}, Object: config.Space{ID: "s33", Parent: "s32"}},
	} {
		if _, err := m.Apply(ctx, mu); err == nil || !strings.Contains(err.Error(), "levels deep") {
			t.Errorf("placing %s deeper: %v, want a refusal naming the depth", mu.Ref.ID, err)
		}
	}
	for _, sp := range []config.Space{{ID: "t1", Parent: "root"}, {ID: "t2", Parent: "t1"}, {ID: "t3", Parent: "t2"}} {
		if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: sp.ID}, Object: sp}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "t1"}, Object: config.Space{ID: "t1", Parent: "s30"}}); err == nil || !strings.Contains(err.Error(), `space "t3" would be 34 levels deep`) {
		t.Errorf("moving t1 (with t2, t3) under s30: %v, want a refusal: 34 levels deep", err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "t1"}, Object: config.Space{ID: "t1", Parent: "s28"}}); err != nil {
		t.Errorf("moving t1 (with t2, t3) under s28, 32 deep in all: %v", err)
	}
}

// TestReloadMovingAFileSpaceTooDeepIsRefused: a reload that moves a file space, with the API
// spaces under it, past config.MaxSpaceDepth is refused, although the file alone is 22 deep, and
// the catalog in force stays.
func TestReloadMovingAFileSpaceTooDeepIsRefused(t *testing.T) {
	ctx := context.Background()
	base := file()
	parent := "root"
	for i := 1; i <= 20; i++ {
		base.Spaces = append(base.Spaces, config.Space{ID: fmt.Sprintf("f%d", i), Parent: parent})
		parent = fmt.Sprintf("f%d", i)
	}
	first := base
	first.Spaces = append(append([]config.Space{}, base.Spaces...), config.Space{ID: "fa", Parent: "root"})
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: first})
	if err != nil {
		t.Fatal(err)
	}
	parent = "fa"
	for i := 1; i <= 12; i++ {
		sp := config.Space{ID: fmt.Sprintf("a%d", i), Parent: parent}
		if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: sp.ID}, Object: sp}); err != nil {
			t.Fatalf("a%d: %v", i, err)
		}
		parent = sp.ID
	}
	second := base
	second.Spaces = append(append([]config.Space{}, base.Spaces...), config.Space{ID: "fa", Parent: "f20"})
	if _, err := m.Reload(ctx, second); err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("a reload moving fa, with the API spaces under it, 34 deep: %v, want a refusal naming the depth", err)
	}
	if p := m.Live().Load().SpacePath("a12"); len(p) != 14 {
		t.Errorf("after the refused reload a12's path is %v, want the one in force (14 deep)", p)
	}
}
