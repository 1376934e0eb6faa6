package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/config"
)

var (
	longGCPRef  = catalog.Ref{Kind: catalog.KindIntegration, ID: "g1"}
	badMountRef = catalog.Ref{Kind: catalog.KindIntegration, ID: "v1"}
	leakedRef   = catalog.Ref{Kind: catalog.KindAPIKey, ID: "leaked"}
)

// gcpIn is a GCP integration in prod lasting d.
func gcpIn(id string, d time.Duration) config.Integration {
	return config.Integration{ID: id, Space: "prod", Duration: d, GCP: &config.GCP{
		WorkloadIdentityProvider: "projects/1/locations/global/workloadIdentityPools/pool/providers/prov",
		ServiceAccount:           "a@b.iam.gserviceaccount.com"}}
}

// storedBeforeRules returns a store holding, at version 1, what an older build accepted and
// today's rules refuse (a GCP integration lasting 13h, a Vault mount that climbs), an API key
// beside them, and extra.
func storedBeforeRules(t *testing.T, extra ...any) catalog.Store {
	t.Helper()
	objs := append([]any{
		gcpIn("g1", 13*time.Hour),
		config.Integration{ID: "v1", Space: "prod", Vault: &config.Vault{Address: "http://127.0.0.1:8200", Mount: "../x", Role: "r"}},
		config.APIKey{ID: "leaked", SecretSHA256: hashHex("leaked-secret"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}},
	}, extra...)
	return storeOf(t, objs...)
}

// storeOf returns a memory store holding objs, each at version 1, committed as one change.
func storeOf(t *testing.T, objs ...any) catalog.Store {
	t.Helper()
	store := catalog.NewMemory()
	catalogtest.Seed(t, store, objs...)
	return store
}

// TestChangeBesideObjectsStoredBeforeRules: a change is checked against the objects in force,
// not against stored objects the catalog leaves out because today's rules refuse them; the one
// under a left-out object's id replaces or deletes it, If-Match and If-None-Match reading its
// stored version. No left-out object is ever in force.
func TestChangeBesideObjectsStoredBeforeRules(t *testing.T) {
	fixed := gcpIn("g1", time.Hour)
	cases := []struct {
		name string
		mu   catalog.Mutation
		// refused is the refusal expected; nil: applied.
		refused error
		// version is the changed object's version after the change.
		version int64
		// replaced: the change replaced or deleted a stored object (not created, Before set).
		replaced bool
		// outOfForce lists the integrations not in force after the change.
		outOfForce []string
	}{
		{name: "a leaked API key deleted", mu: catalog.Mutation{Ref: leakedRef},
			replaced: true, outOfForce: []string{"g1", "v1"}},
		{name: "an unrelated role created", mu: catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "reader"},
			Object: config.Role{ID: "reader", Actions: []string{config.ActionRunRead}}}, version: 1,
			outOfForce: []string{"g1", "v1"}},
		{name: "a left-out integration replaced", mu: catalog.Mutation{Ref: longGCPRef, Object: fixed},
			version: 2, replaced: true, outOfForce: []string{"v1"}},
		{name: "a left-out integration replaced at its stored version", mu: catalog.Mutation{Ref: longGCPRef, Object: fixed, IfMatch: 1},
			version: 2, replaced: true, outOfForce: []string{"v1"}},
		{name: "a left-out integration replaced if it exists", mu: catalog.Mutation{Ref: longGCPRef, Object: fixed, IfMatch: catalog.AnyVersion},
			version: 2, replaced: true, outOfForce: []string{"v1"}},
		{name: "a left-out integration deleted", mu: catalog.Mutation{Ref: badMountRef},
			replaced: true, outOfForce: []string{"g1", "v1"}},
		{name: "a left-out integration deleted at its stored version", mu: catalog.Mutation{Ref: badMountRef, IfMatch: 1},
			replaced: true, outOfForce: []string{"g1", "v1"}},
		{name: "a left-out integration replaced by one today's rules refuse", mu: catalog.Mutation{Ref: longGCPRef, Object: gcpIn("g1", 14*time.Hour)},
			refused: catalog.ErrInvalid, outOfForce: []string{"g1", "v1"}},
		{name: "a left-out integration replaced at another version", mu: catalog.Mutation{Ref: longGCPRef, Object: fixed, IfMatch: 2},
			refused: catalog.ErrPrecondition, outOfForce: []string{"g1", "v1"}},
		{name: "a left-out integration created over", mu: catalog.Mutation{Ref: longGCPRef, Object: fixed, IfMatch: catalog.NoVersion},
			refused: catalog.ErrPrecondition, outOfForce: []string{"g1", "v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := storedBeforeRules(t)
			m := newManager(t, store)
			res, err := m.Apply(ctx, tc.mu)
			switch {
			case tc.refused != nil && !errors.Is(err, tc.refused):
				t.Fatalf("Apply = %v, want %v", err, tc.refused)
			case tc.refused == nil && err != nil:
				t.Fatalf("Apply = %v", err)
			case tc.refused == nil:
				if res.Version != tc.version || res.Created == tc.replaced || (res.Before != nil) != tc.replaced {
					t.Errorf("Apply = version %d, created %v, before %v; want version %d, replaced %v",
						res.Version, res.Created, res.Before, tc.version, tc.replaced)
				}
			}
			// Every replica, this one and one that starts now, has the same objects in force.
			for name, c := range map[string]*catalog.Catalog{"this replica": m.Live().Load(), "a replica starting": newManager(t, store).Live().Load()} {
				for _, id := range tc.outOfForce {
					if in, ok := c.Integration(id); ok {
						t.Errorf("%s: integration %q is in force: %+v", name, id, in)
					}
				}
				if tc.refused == nil && tc.mu.Ref == longGCPRef {
					if in, ok := c.Integration("g1"); !ok || in.Duration != time.Hour {
						t.Errorf("%s: the replacement of g1 is not in force (%v, lasting %v)", name, ok, in.Duration)
					}
				}
			}
		})
	}
}

// TestRefusalBesideObjectsStoredBeforeRulesNamesOnlyObjectsInForce: a change refused beside
// stored objects the catalog leaves out is refused for the objects in force alone, and says
// nothing of the left-out ones.
func TestRefusalBesideObjectsStoredBeforeRulesNamesOnlyObjectsInForce(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, storedBeforeRules(t,
		config.Space{ID: "team", Parent: "prod"},
		config.Stack{ID: "web", Space: "team"},
		config.Integration{ID: "v2", Space: "team", Vault: &config.Vault{Address: "http://127.0.0.1:8200", Mount: "a/../../b", Role: "r"}},
	))
	_, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "team"}})
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), `stack "web"`) {
		t.Fatalf("deleting a space holding a stack = %v, want a conflict naming the stack", err)
	}
	for _, left := range []string{`"g1"`, `"v1"`, `"v2"`} {
		if strings.Contains(err.Error(), left) {
			t.Errorf("the refusal names %s, which is not in force: %v", left, err)
		}
	}
}

// TestObjectStoredBeforeRulesComesBackOnceItFits: an object left out only because it refers to
// one today's rules refuse is in force once that one is replaced, on the replica that replaced
// it as on one that starts on the store.
func TestObjectStoredBeforeRulesComesBackOnceItFits(t *testing.T) {
	ctx := context.Background()
	store := storedBeforeRules(t, config.Attachment{Stack: "vpc", Integration: "g1", Read: true})
	m := newManager(t, store)
	if m.Live().Load().Attached("vpc", "g1") {
		t.Fatal("the attachment of a left-out integration is in force")
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: longGCPRef, Object: gcpIn("g1", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !m.Live().Load().Attached("vpc", "g1") {
		t.Error("this replica: the attachment is not in force once its integration is replaced")
	}
	if !newManager(t, store).Live().Load().Attached("vpc", "g1") {
		t.Error("a replica starting: the attachment is not in force once its integration is replaced")
	}
}

// TestChangePushedOutByObjectStoredBeforeRulesIsRefused: a change that the objects in force
// take, but after which the catalog would leave out an object of its own or in force (it
// clashes with a left-out object that stays stored), is refused, naming only that object;
// accepted, every replica would leave it out.
func TestChangePushedOutByObjectStoredBeforeRulesIsRefused(t *testing.T) {
	ctx := context.Background()
	store := storedBeforeRules(t, config.Attachment{Stack: "vpc", Integration: "g1", Read: true}, gcpIn("g2", time.Hour))
	m := newManager(t, store)
	before, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAttachment, ID: "vpc/g2"},
		Object: config.Attachment{Stack: "vpc", Integration: "g2", Read: true}})
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), `attachment "vpc/g2"`) || strings.Contains(err.Error(), `"g1"`) {
		t.Fatalf("an attachment clashing with a left-out one = %v, want a conflict naming only it", err)
	}
	if after, err := store.Head(ctx); err != nil || after != before {
		t.Errorf("the refused change moved the store from %+v to %+v (%v)", before, after, err)
	}
}
