package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

func newManager(t *testing.T, store catalog.Store) *catalog.Manager {
	t.Helper()
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func put(obj any, ifMatch int64) catalog.Mutation {
	var ref catalog.Ref
	switch o := obj.(type) {
	case config.Space:
		ref = catalog.Ref{Kind: catalog.KindSpace, ID: o.ID}
	case config.Stack:
		ref = catalog.Ref{Kind: catalog.KindStack, ID: o.ID}
	case config.Integration:
		ref = catalog.Ref{Kind: catalog.KindIntegration, ID: o.ID}
	case config.Attachment:
		ref = catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID(o.Stack, o.Integration)}
	}
	return catalog.Mutation{Ref: ref, Object: obj, IfMatch: ifMatch}
}

func TestManagerApply(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	res, err := m.Apply(ctx, put(config.Space{ID: "team", Parent: "prod", Inherit: true}, 0))
	if err != nil || !res.Created || res.Version != 1 {
		t.Fatalf("create = %+v, %v", res, err)
	}
	if _, ok := m.Live().Load().Space("team"); !ok {
		t.Fatal("the new space is not in force on this replica at once")
	}
	res, err = m.Apply(ctx, put(config.Space{ID: "team", Parent: "prod"}, 1))
	if err != nil || res.Created || res.Version != 2 {
		t.Fatalf("replace = %+v, %v", res, err)
	}
	if m, _ := m.Live().Load().Meta(catalog.Ref{Kind: catalog.KindSpace, ID: "team"}); m.Version != 2 || m.ManagedBy != catalog.ManagedByAPI {
		t.Errorf("meta = %+v", m)
	}

	tests := []struct {
		name  string
		mu    catalog.Mutation
		kind  error
		field string
		msg   string
	}{
		{"stale If-Match", put(config.Space{ID: "team", Parent: "prod"}, 1), catalog.ErrPrecondition, "", "at version 2, not 1"},
		{"file object", put(config.Stack{ID: "vpc", Space: "prod"}, 0), catalog.ErrManagedByConfig, "", "configuration file"},
		{"bad template", put(config.Space{ID: "x", Parent: "root", SubjectTemplate: "{nope}"}, 0), catalog.ErrInvalid, "subjectTemplate", "unknown placeholder {nope}"},
		{"missing parent", put(config.Space{ID: "x", Parent: "gone"}, 0), catalog.ErrNotFound, "parent", `space "gone" does not exist`},
		{"bad label", put(config.Stack{ID: "s", Space: "team", Labels: []string{"A"}}, 0), catalog.ErrInvalid, "labels[0]", `label "A" must match`},
		{"in use", catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "prod"}}, catalog.ErrManagedByConfig, "", ""},
		{"delete absent", catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "ghost"}}, catalog.ErrNotFound, "", `stack "ghost" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Apply(ctx, tt.mu)
			var ce *catalog.ChangeError
			if !errors.Is(err, tt.kind) || !errors.As(err, &ce) {
				t.Fatalf("Apply = %v, want %v", err, tt.kind)
			}
			if ce.Field != tt.field || !strings.Contains(ce.Error(), tt.msg) {
				t.Errorf("refusal field %q, message %q; want field %q and %q", ce.Field, ce.Error(), tt.field, tt.msg)
			}
		})
	}
}

func TestManagerInUseAndAutoattach(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	must := func(mu catalog.Mutation) {
		t.Helper()
		if _, err := m.Apply(ctx, mu); err != nil {
			t.Fatal(err)
		}
	}
	must(put(config.Space{ID: "team", Parent: "prod", Inherit: true}, 0))
	must(put(config.Stack{ID: "dns", Space: "team", Labels: []string{"net"}}, 0))
	must(put(awsIn("aws-w1", "team"), 0))
	must(put(config.Attachment{Stack: "dns", Integration: "aws-w1", Write: true}, 0))

	_, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "team"}})
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), `stack "dns"`) {
		t.Errorf("deleting a space holding a stack = %v, want a conflict naming the stack", err)
	}
	_, err = m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-w1"}})
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), `attachment of "aws-w1" to stack "dns"`) {
		t.Errorf("deleting an attached integration = %v, want a conflict naming the attachment", err)
	}
	// A second write integration for aws on dns through autoattach breaks one-write-per-provider.
	_, err = m.Apply(ctx, put(withAuto(awsIn("aws-w2", "team"), "net", false, true), 0))
	if !errors.Is(err, catalog.ErrConflict) || !strings.Contains(err.Error(), `stack "dns" would have two write attachments for aws`) {
		t.Errorf("conflicting autoattach = %v, want a conflict naming the stack", err)
	}
	// As a read rule it fits, and credential resolution sees it at once.
	must(put(withAuto(awsIn("aws-w2", "team"), "net", true, false), 0))
	in, err := m.Live().Load().Resolve(runs.Run{Stack: "dns", RunType: runs.Tracked, Phase: runs.Planning, Scope: runs.Read}, "aws", "")
	if err != nil || in.ID != "aws-w2" {
		t.Errorf("Resolve read = %q, %v", in.ID, err)
	}
	// Deleting the stack takes its attachments along.
	res, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "dns"},
		Cascade: func(c *catalog.Catalog) []catalog.Ref {
			var out []catalog.Ref
			for _, a := range c.Attachments("dns") {
				out = append(out, catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID(a.Stack, a.Integration)})
			}
			return out
		}})
	if err != nil || len(res.Deleted) != 2 {
		t.Fatalf("delete stack = %+v, %v", res, err)
	}
	must(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-w1"}})
}

func TestManagerReplicas(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	if _, err := a.Apply(ctx, put(config.Stack{ID: "new", Space: "prod"}, 0)); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Live().Load().Stack("new"); ok {
		t.Fatal("b saw the change before refreshing (the test proves nothing)")
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Live().Load().Stack("new"); !ok {
		t.Fatal("b did not converge after Refresh")
	}
	// A change made on b against a's newest object needs no refresh from the caller.
	if _, err := b.Apply(ctx, put(config.Stack{ID: "new", Space: "prod", Labels: []string{"x"}}, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, put(config.Stack{ID: "new", Space: "prod"}, 1)); !errors.Is(err, catalog.ErrPrecondition) {
		t.Fatalf("a's stale If-Match = %v, want ErrPrecondition", err)
	}
}

// TestManagerConcurrentPuts: 50 conditional PUTs of one object at one version: one wins. 50
// unconditional ones: every one lands, none lost.
func TestManagerConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	ms := []*catalog.Manager{newManager(t, store), newManager(t, store)}
	if _, err := ms[0].Apply(ctx, put(config.Stack{ID: "s", Space: "prod"}, 0)); err != nil {
		t.Fatal(err)
	}
	var wins, stale atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ms[i%2].Apply(ctx, put(config.Stack{ID: "s", Space: "prod", Labels: []string{"l"}}, 1))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, catalog.ErrPrecondition):
				stale.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || stale.Load() != 49 {
		t.Fatalf("conditional: %d won, %d stale; want 1 and 49", wins.Load(), stale.Load())
	}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ms[i%2].Apply(ctx, put(config.Stack{ID: "s", Space: "prod"}, 0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := ms[1].Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := ms[1].Live().Load().Meta(catalog.Ref{Kind: catalog.KindStack, ID: "s"}); m.Version != 52 {
		t.Fatalf("version after 52 changes = %d", m.Version)
	}
}

func TestManagerReload(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	if _, err := m.Apply(ctx, put(config.Stack{ID: "api-stack", Space: "prod"}, 0)); err != nil {
		t.Fatal(err)
	}
	bad := file()
	bad.Stacks = append(bad.Stacks, config.Stack{ID: "api-stack", Space: "prod"})
	if _, err := m.Reload(bad); err == nil || !strings.Contains(err.Error(), `stack "api-stack"`) {
		t.Fatalf("a file colliding with an API object = %v", err)
	}
	good := file()
	good.Stacks = append(good.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	if _, err := m.Reload(good); err != nil {
		t.Fatal(err)
	}
	c := m.Live().Load()
	if _, ok := c.Stack("from-file"); !ok {
		t.Error("the reloaded file's stack is not in force")
	}
	if _, ok := c.Stack("api-stack"); !ok {
		t.Error("the API's stack was lost by the reload")
	}
}

// BenchmarkApplyOneChange10k measures one API change (a stack replaced) on a catalog of 1,000
// spaces and 10,000 stacks: validation of every object, the rebuild and the commit (the goal
// is under 50 ms).
func BenchmarkApplyOneChange10k(b *testing.B) {
	ctx := context.Background()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: big(1000, 10000)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Apply(ctx, put(config.Stack{ID: "api-stack", Space: "s1"}, 0)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		labels := []string{fmt.Sprintf("l%d", i%2)}
		if _, err := m.Apply(ctx, put(config.Stack{ID: "api-stack", Space: "s1", Labels: labels}, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
