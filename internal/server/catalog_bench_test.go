package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// growCatalog adds spaces spaces under prod and stacks stacks spread over them to the replica's
// catalog store in one commit, each stack with an attachment-free record, and waits for the
// replica to put them in force. It measures the rebuild that takes.
func growCatalog(tb testing.TB, ts *testServer, spaces, stacks int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	var changes []catalog.Change
	add := func(obj any) {
		ref, err := catalog.RefOf(obj)
		if err != nil {
			tb.Fatal(err)
		}
		body, err := config.EncodeJSON(obj)
		if err != nil {
			tb.Fatal(err)
		}
		changes = append(changes, catalog.Change{Record: catalog.Record{Ref: ref, Version: 1, Body: body}})
	}
	for i := range spaces {
		add(config.Space{ID: fmt.Sprintf("bench-s%d", i), Parent: "prod", Inherit: true})
	}
	for i := range stacks {
		add(config.Stack{ID: fmt.Sprintf("bench-st%d", i), Space: fmt.Sprintf("bench-s%d", i%max(spaces, 1))})
	}
	store := ts.srv.state.catalog
	head, err := store.Head(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Commit(ctx, head, changes); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := ts.srv.catalog.Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
	took := time.Since(start)
	if _, ok := ts.srv.catalog.Live().Load().Stack(fmt.Sprintf("bench-st%d", stacks-1)); stacks > 0 && !ok {
		tb.Fatal("the grown catalog is not in force")
	}
	return took
}

// BenchmarkTokenEndpointCatalog measures the token endpoint with a catalog of 10 stacks and
// with one of 1,000 spaces and 10,000 stacks, signing with each algorithm (the bar:
// within 5%, compared by cpu-ns/op within one run): ES256's cheaper signature shows more of
// what the catalog's size costs a token.
func BenchmarkTokenEndpointCatalog(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		for _, size := range []struct{ spaces, stacks int }{{0, 0}, {1000, 10000}} {
			b.Run(fmt.Sprintf("%s/stacks=%d", alg, size.stacks+3), func(b *testing.B) {
				ts := startServer(b, serverOptions{alg: alg, quiet: true})
				growCatalog(b, ts, size.spaces, size.stacks)
				benchTokenEndpoint(b, ts)
			})
		}
	}
}

// TestCatalogRebuildWith10kStacks reports how long a replica takes to load and rebuild a
// catalog of 1,000 spaces and 10,000 stacks (the goal: under 50 ms); the figure is
// logged, not asserted, since timing belongs to benchmarks.
func TestCatalogRebuildWith10kStacks(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: builds a 10,000-stack catalog")
	}
	ts := startServer(t, serverOptions{quiet: true})
	took := growCatalog(t, ts, 1000, 10000)
	t.Logf("load and rebuild of 1,000 spaces and 10,000 stacks: %s", took)
	if _, ok := ts.srv.catalog.Live().Load().Space("bench-s999"); !ok {
		t.Fatal("space bench-s999 missing after the rebuild")
	}
}

// TestCatalogRefreshAfterOneChange reports how long a replica holding 10,000 stacks takes to
// take in one change made elsewhere (the figure is logged, not asserted).
func TestCatalogRefreshAfterOneChange(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: builds a 10,000-stack catalog")
	}
	ts := startServer(t, serverOptions{quiet: true})
	growCatalog(t, ts, 1000, 10000)
	took := growCatalog(t, ts, 0, 1)
	t.Logf("refresh after one change, 10,000 stacks in force: %s", took)
}
