package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestStartLeavesAnOlderReplicasReloadAlone: during a rolling upgrade a replica of a
// release that keeps no file-as-seen record reloads a file that moves a file stack. It records the move (a
// tombstone "from:<old space>", as its fileChanges does) but not the file-as-seen record,
// which it does not know. A replica of this release that starts later on that same file must
// not record the move a second time: the runs started in the stack's new place since the
// reload would end.
func TestStartLeavesAnOlderReplicasReloadAlone(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	store := catalog.NewMemory()
	before := file()
	before.Stacks = append(before.Stacks, config.Stack{ID: "api", Space: "prod-eu"})
	after := file()
	after.Stacks = append(after.Stacks, config.Stack{ID: "api", Space: "prod"})

	// A replica of this release ran on the first file (it wrote the file-as-seen record).
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: before, Now: func() time.Time { return t0 }}); err != nil {
		t.Fatal(err)
	}
	// An older replica reloads the moved file an hour later: exactly the record its reload writes.
	moved := t0.Add(time.Hour)
	snap, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var version int64
	for _, r := range snap.Records {
		if r.Ref == (catalog.Ref{Kind: catalog.KindStack, ID: "api"}) {
			version = r.Version
		}
	}
	head, _ := store.Head(ctx)
	if _, err := store.Commit(ctx, head, []catalog.Change{{Record: catalog.Record{
		Ref: catalog.Ref{Kind: catalog.KindStack, ID: "api"}, Version: version + 1,
		Created: moved.UnixMilli(), Body: []byte("from:prod-eu")}}}); err != nil {
		t.Fatal(err)
	}
	// A replica of this release starts on the same (moved) file two hours after the move.
	later := moved.Add(2 * time.Hour)
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: after, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	meta, ok := m.Live().Load().Meta(catalog.Ref{Kind: catalog.KindStack, ID: "api"})
	if !ok {
		t.Fatal("stack api not in force")
	}
	if want := moved.Add(catalog.SettleTime); !meta.Created.Equal(want) {
		t.Errorf("stack api counts as placed at %v, want %v (the older replica's reload): the start recorded the move again, ending the runs started in its new place since", meta.Created, want)
	}
}
