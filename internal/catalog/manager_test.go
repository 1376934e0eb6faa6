package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
