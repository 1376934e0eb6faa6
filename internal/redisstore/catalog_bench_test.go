package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// BenchmarkCatalogLoad10k is one consistent read of a Redis catalog of 10,000 stacks, the
// read every replica makes after each commit; skipped without redis-server.
func BenchmarkCatalogLoad10k(b *testing.B) {
	srv := redistest.Start(b)
	store := open(b, srv, uniquePrefix(), suiteTimeout).Catalog()
	ctx := context.Background()
	var head catalog.Head
	for chunk := 0; chunk < 10; chunk++ {
		changes := make([]catalog.Change, 0, 1000)
		for i := 0; i < 1000; i++ {
			id := fmt.Sprintf("stack-%05d", chunk*1000+i)
			changes = append(changes, catalog.Change{Record: catalog.Record{
				Ref: catalog.Ref{Kind: "stack", ID: id}, Version: 1, Created: 1,
				Body: []byte(`{"id":"` + id + `","space":"prod","labels":{"team":"network"}}`)}})
		}
		var err error
		if head, err = store.Commit(ctx, head, changes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		snap, err := store.Load(ctx)
		if err != nil || len(snap.Records) != 10000 {
			b.Fatalf("load: %d records, %v", len(snap.Records), err)
		}
	}
}
