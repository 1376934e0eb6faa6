package catalog

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// TestLostFileAsSeenIsWrittenBack: a failover that loses a start's commit loses the record of
// the file as seen with its tombstones; the running replica writes both back, so that a later
// restart on the file every replica runs records nothing again, and a stack moved before the
// first start does not count as placed anew (its runs ending) at each restart.
func TestLostFileAsSeenIsWrittenBack(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	f1 := crossingFile()
	f1.Spaces = append(slices.Clone(f1.Spaces), config.Space{ID: "eu", Parent: "prod", Inherit: true})
	f1.Stacks = []config.Stack{{ID: "api", Space: "prod"}}
	if _, err := NewManager(ctx, ManagerConfig{Store: store, File: f1, Now: clock.now}); err != nil {
		t.Fatal(err)
	}
	goBack := crossingSave(store)
	f2 := crossingFile()
	f2.Spaces = slices.Clone(f1.Spaces)
	f2.Stacks = []config.Stack{{ID: "api", Space: "eu"}} // moved while no replica ran
	clock.ms.Add(time.Hour.Milliseconds())
	r2, err := NewManager(ctx, ManagerConfig{Store: store, File: f2, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	placed, _ := r2.Live().Load().Meta(Ref{Kind: KindStack, ID: "api"})
	goBack() // the failover loses r2's start commit
	clock.ms.Add(time.Minute.Milliseconds())
	if err := r2.Refresh(ctx); err != nil { // writes back what it lost
		t.Fatal(err)
	}
	clock.ms.Add(4 * time.Hour.Milliseconds())
	if _, err := NewManager(ctx, ManagerConfig{Store: store, File: f2, Now: clock.now}); err != nil { // rolling restart, same file
		t.Fatal(err)
	}
	if err := r2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	now, _ := r2.Live().Load().Meta(Ref{Kind: KindStack, ID: "api"})
	if !now.Created.Equal(placed.Created) {
		t.Errorf("stack api was placed at %s; after a restart on the same file it counts as placed %s later: its runs are ended",
			placed.Created.UTC().Format(time.RFC3339), now.Created.Sub(placed.Created))
	}
}
