package catalogtest

import (
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// restartOnAChangedFile: a replica started on a file from which a stack was dropped while no
// replica ran records the leave in the store, so that every replica refuses the stack's id
// elsewhere through the API, and a replica started on the file that puts it back ends the
// stack's old runs (it counts as placed after the leave).
func restartOnAChangedFile(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 3)
	withAPI := fileObjects()
	withAPI.Stacks = append(slices.Clone(withAPI.Stacks), config.Stack{ID: "api", Space: "prod-eu"})
	start := func(s catalog.Store, file catalog.Objects) *catalog.Manager {
		t.Helper()
		m, err := catalog.NewManager(ctx(t), catalog.ManagerConfig{Store: s, File: file})
		if err != nil {
			t.Fatalf("NewManager: %v", err)
		}
		return m
	}
	start(stores[0], withAPI)
	without := newManager(t, stores[1])
	mu := putOf(t, config.Stack{ID: "api", Space: "prod"}, 0)
	if _, err := without.Apply(ctx(t), mu); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("the id of a stack dropped between a stop and a start, created elsewhere through the API: %v, want a conflict", err)
	}
	back := start(stores[2], withAPI)
	if meta, _ := back.Live().Load().Meta(ref(catalog.KindStack, "api")); meta.Created.IsZero() {
		t.Error("a stack put back between a stop and a start counts as in force since ever: its old runs would come back")
	}
}
