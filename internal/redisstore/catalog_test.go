package redisstore_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestCatalogContract(t *testing.T) {
	srv := redistest.Start(t)
	catalogtest.Run(t, func(t *testing.T) catalog.Store {
		return open(t, srv, uniquePrefix(), suiteTimeout).Catalog()
	})
}

// TestCatalogAcrossReplicas commits on one client and reads on another sharing the prefix.
func TestCatalogAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	a := open(t, srv, prefix, suiteTimeout).Catalog()
	b := open(t, srv, prefix, suiteTimeout).Catalog()
	rec := catalog.Record{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "s"}, Version: 1, Body: []byte(`{"id":"s","note":"a:b"}`)}
	if _, err := a.Commit(ctx, catalog.Head{}, []catalog.Change{{Record: rec}}); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil || snap.Revision != 1 || len(snap.Records) != 1 || string(snap.Records[0].Body) != string(rec.Body) {
		t.Fatalf("replica b Load = %+v, %v", snap, err)
	}
}

// TestCatalogManagerContract runs the Manager's contract with every replica on its own client
// of one Redis, sharing one key prefix.
func TestCatalogManagerContract(t *testing.T) {
	srv := redistest.Start(t)
	catalogtest.RunManager(t, func(t *testing.T, n int) []catalog.Store {
		prefix := uniquePrefix()
		out := make([]catalog.Store, n)
		for i := range out {
			out[i] = open(t, srv, prefix, suiteTimeout).Catalog()
		}
		return out
	})
}
