package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/config"
)

func newManager(t *testing.T, store catalog.Store) *catalog.Manager {
	t.Helper()
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManagerContractOnMemory(t *testing.T) {
	catalogtest.RunManager(t, func(_ *testing.T, n int) []catalog.Store {
		m := catalog.NewMemory()
		out := make([]catalog.Store, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}

func TestManagerReload(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}, Object: config.Stack{ID: "api-stack", Space: "prod"}}); err != nil {
		t.Fatal(err)
	}
	bad := file()
	bad.Stacks = append(bad.Stacks, config.Stack{ID: "api-stack", Space: "prod"})
	if _, err := m.Reload(ctx, bad); err == nil || !strings.Contains(err.Error(), `stack "api-stack"`) {
		t.Fatalf("a file colliding with an API object = %v", err)
	}
	good := file()
	good.Stacks = append(good.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	if _, err := m.Reload(ctx, good); err != nil {
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
	if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "s1"})); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		labels := []string{fmt.Sprintf("l%d", i%2)}
		if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "s1", Labels: labels})); err != nil {
			b.Fatal(err)
		}
	}
}

// stackPut is the mutation that puts st.
func stackPut(st config.Stack) catalog.Mutation {
	return catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st}
}

// TestAuthorizeSeesTheCatalogOfTheCommit: a replica that has not yet heard of another's change
// asks Authorize with the refreshed catalog, the one its change is validated and committed on,
// and a refusal there changes nothing.
func TestAuthorizeSeesTheCatalogOfTheCommit(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "moving"}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// a moves the stack to prod-eu; b has not refreshed and still sees it in prod.
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod-eu"}}); err != nil {
		t.Fatal(err)
	}
	if sp, _ := b.Live().Load().StackSpace("moving"); sp != "prod" {
		t.Fatalf("b already sees the move (space %q): the test proves nothing", sp)
	}
	refused := errors.New("no admin rights in prod-eu")
	var seen string
	_, err := b.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod", Labels: []string{"x"}},
		Authorize: func(c *catalog.Catalog) error {
			seen, _ = c.StackSpace("moving")
			if seen != "prod" {
				return refused
			}
			return nil
		}})
	if !errors.Is(err, refused) || seen != "prod-eu" {
		t.Fatalf("Apply = %v after Authorize saw space %q; want the refusal, having seen prod-eu", err, seen)
	}
	if st, _ := b.Live().Load().Stack("moving"); st.Space != "prod-eu" || len(st.Labels) != 0 {
		t.Errorf("the refused change was applied: %+v", st)
	}
}

// heldCommits is a Store whose next Commit signals entered and waits for release.
type heldCommits struct {
	catalog.Store
	entered, release chan struct{}
}

func (h *heldCommits) Commit(ctx context.Context, rev int64, changes []catalog.Change) (int64, error) {
	if h.entered != nil {
		close(h.entered)
		h.entered = nil
		<-h.release
	}
	return h.Store.Commit(ctx, rev, changes)
}

// TestReloadDuringAChange: a file reloaded while a change of this replica is being committed
// stays in force once the change is in, and the change too: the change's catalog, built on
// the old file, never replaces the reloaded one.
func TestReloadDuringAChange(t *testing.T) {
	ctx := context.Background()
	held := &heldCommits{Store: catalog.NewMemory(), entered: make(chan struct{}), release: make(chan struct{})}
	m := newManager(t, held)
	entered := held.entered
	applied := make(chan error, 1)
	go func() {
		_, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "prod"}))
		applied <- err
	}()
	<-entered
	reloaded := file()
	reloaded.Stacks = append(reloaded.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	done := make(chan error, 1)
	go func() { _, err := m.Reload(ctx, reloaded); done <- err }()
	var reloadErr error
	returned := false
	select {
	case reloadErr = <-done: // a Reload that does not wait for the change must still win
		returned = true
	case <-time.After(100 * time.Millisecond):
	}
	close(held.release)
	if err := <-applied; err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !returned {
		select {
		case reloadErr = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Reload did not return once the change was in")
		}
	}
	if reloadErr != nil {
		t.Fatalf("Reload: %v", reloadErr)
	}
	c := m.Live().Load()
	if _, ok := c.Stack("from-file"); !ok {
		t.Error("the reloaded file's stack is not in force after the change")
	}
	if _, ok := c.Stack("api-stack"); !ok {
		t.Error("the change is not in force after the reload")
	}
}
