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

// TestReloadBesideObjectsStoredBeforeRules: a reload checks the new file against the API
// objects in force, not against stored objects the catalog leaves out because today's rules
// refuse them, so a file that removes a compromised API key is in force with them stored. A
// file that does not fit an API object in force (colliding with it, or invalid beside it) is
// still refused whole: nothing is recorded and the catalog in force stays. The catalog a
// reload puts in force is the one a replica starting on the store and the new file builds: a
// left-out object that fits the new file comes back, the others stay out.
func TestReloadBesideObjectsStoredBeforeRules(t *testing.T) {
	opsRef := catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}
	webRef := catalog.Ref{Kind: catalog.KindStack, ID: "web"}
	apiStackRef := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
	collides := func(err error) bool {
		var coll *catalog.CollisionError
		return errors.As(err, &coll)
	}
	invalid := func(err error) bool {
		var errs config.Errors
		return errors.As(err, &errs)
	}
	with := func(edit func(f *catalog.Objects)) catalog.Objects {
		f := file()
		edit(&f)
		return f
	}
	cases := []struct {
		name string
		// extra are stored beside storedBeforeRules's objects.
		extra []any
		file  catalog.Objects
		// refused tells the refusal expected; nil: in force.
		refused func(error) bool
		// inForce and outOfForce list the objects in force, and not, after the reload.
		inForce, outOfForce []catalog.Ref
	}{
		{name: "a compromised file API key removed",
			file:    with(func(f *catalog.Objects) { f.APIKeys = nil }),
			inForce: []catalog.Ref{leakedRef}, outOfForce: []catalog.Ref{opsRef, longGCPRef, badMountRef}},
		{name: "a left-out stack in a space the file now declares comes back",
			extra:   []any{config.Stack{ID: "web", Space: "team"}},
			file:    with(func(f *catalog.Objects) { f.Spaces = append(f.Spaces, config.Space{ID: "team", Parent: "prod"}) }),
			inForce: []catalog.Ref{webRef, opsRef, leakedRef}, outOfForce: []catalog.Ref{longGCPRef, badMountRef}},
		{name: "a file declaring a left-out object's id wins",
			file:    with(func(f *catalog.Objects) { f.Integrations = append(f.Integrations, gcpIn("g1", time.Hour)) }),
			inForce: []catalog.Ref{longGCPRef, opsRef, leakedRef}, outOfForce: []catalog.Ref{badMountRef}},
		{name: "a file colliding with an API key in force",
			file: with(func(f *catalog.Objects) {
				f.APIKeys = []config.APIKey{{ID: "leaked", SecretSHA256: hashHex("other"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}}
			}),
			refused: collides,
			inForce: []catalog.Ref{opsRef, leakedRef}, outOfForce: []catalog.Ref{longGCPRef, badMountRef}},
		{name: "a file removing the space of an API stack in force",
			extra:   []any{config.Stack{ID: "api-stack", Space: "prod-eu"}},
			file:    with(func(f *catalog.Objects) { f.Spaces = f.Spaces[:2] }),
			refused: invalid,
			inForce: []catalog.Ref{apiStackRef, opsRef, leakedRef}, outOfForce: []catalog.Ref{longGCPRef, badMountRef}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := storedBeforeRules(t, tc.extra...)
			m := newManager(t, store)
			was := m.Live().Load()
			head, err := store.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			log := &reloadRecorder{}
			_, err = m.ReloadLogged(ctx, tc.file, log)
			inForce := map[string]*catalog.Catalog{"this replica": m.Live().Load()}
			if tc.refused == nil {
				if err != nil {
					t.Fatalf("ReloadLogged = %v", err)
				}
				if log.before != 1 || len(log.notCommitted) != 0 {
					t.Errorf("Before called %d times, NotCommitted %v; want once, never", log.before, log.notCommitted)
				}
				starting, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: tc.file})
				if err != nil {
					t.Fatal(err)
				}
				inForce["a replica starting on the new file"] = starting.Live().Load()
			} else {
				if !tc.refused(err) {
					t.Fatalf("ReloadLogged = %v, want it refused", err)
				}
				for _, left := range []string{`"g1"`, `"v1"`} {
					if strings.Contains(err.Error(), left) {
						t.Errorf("the refusal names %s, which is not in force: %v", left, err)
					}
				}
				if log.before != 0 || len(log.notCommitted) != 0 {
					t.Errorf("a refused reload called Before %d times, NotCommitted %v", log.before, log.notCommitted)
				}
				if now := m.Live().Load(); now != was {
					t.Errorf("a refused reload changed the catalog in force from revision %d to %d", was.Revision(), now.Revision())
				}
				if after, err := store.Head(ctx); err != nil || after != head {
					t.Errorf("a refused reload moved the store from %+v to %+v (%v)", head, after, err)
				}
			}
			for name, c := range inForce {
				for _, r := range tc.inForce {
					if _, ok := c.Meta(r); !ok {
						t.Errorf("%s: %s is not in force", name, r)
					}
				}
				for _, r := range tc.outOfForce {
					if _, ok := c.Meta(r); ok {
						t.Errorf("%s: %s is in force", name, r)
					}
				}
				if in, ok := c.Integration("g1"); ok && in.Duration > 12*time.Hour {
					t.Errorf("%s: the stored integration g1 lasting %v, which today's rules refuse, is in force", name, in.Duration)
				}
			}
		})
	}
}
