package redisstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestCheckpointAtPositionZero: a checkpoint that is the chain's first event (position 0)
// is reported by Head, and a second checkpoint conditioned on it lands rather than failing as
// a corrupted index.
// Guards against: audit.go:454 "at >= 0 && raw" -> "at > 0 && raw"
func TestCheckpointAtPositionZero(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	store := c.Audit()
	cp := func(id string) audit.Event {
		return audit.Event{ID: id, Time: time.Now().UTC().Format(time.RFC3339Nano), Actor: "broker",
			Action: "audit.checkpoint", Outcome: "success"}
	}
	if _, ok, err := store.AppendCheckpoint(ctx, cp("cp-1"), nil, -1); err != nil || !ok {
		t.Fatalf("first AppendCheckpoint: %v, %v", ok, err)
	}
	h, err := store.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if h.Checkpoint == nil || h.CheckpointAt != 0 || h.Checkpoint.ID != "cp-1" {
		t.Fatalf("Head after a checkpoint at position 0 = %+v; want checkpoint cp-1 at 0", h)
	}
	if _, ok, err := store.AppendCheckpoint(ctx, cp("cp-2"), nil, 0); err != nil || !ok {
		t.Errorf("second AppendCheckpoint after the checkpoint at 0: %v, %v; want appended", ok, err)
	}
}

// TestCatalogMalformedStoredState: a catalog whose stored revision is not a number, or
// holding a record of version 0, is reported as malformed by Head and Load rather than read as
// an empty or valid catalog.
// Guards against: catalog.go:104 ignore the revision's parse error
// Guards against: catalog.go:118 "v < 1" -> "v < 0"
func TestCatalogMalformedStoredState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		key   string
		field string
		value string
		head  bool
	}{
		{name: "revision not a number", key: "{catalog}:rev", value: "twelve", head: true},
		{name: "record of version 0", key: "{catalog}:objects", field: "stack/vpc", value: "0:1:{}"},
		{name: "record without created", key: "{catalog}:objects", field: "stack/vpc", value: "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			prefix := uniquePrefix()
			store := open(t, srv, prefix, suiteTimeout).Catalog()
			rdb := srv.Client()
			var err error
			if tc.field == "" {
				err = rdb.Set(ctx, prefix+tc.key, tc.value, 0).Err()
			} else {
				err = rdb.HSet(ctx, prefix+tc.key, tc.field, tc.value).Err()
			}
			if err != nil {
				t.Fatalf("write %s: %v", tc.key, err)
			}
			if snap, err := store.Load(ctx); err == nil {
				t.Errorf("Load = revision %d, %d records, nil; want a malformed-store error", snap.Revision, len(snap.Records))
			}
			if tc.head {
				if h, err := store.Head(ctx); err == nil {
					t.Errorf("Head = %+v, nil; want a malformed-revision error", h)
				}
			}
		})
	}
}

// TestAuditRangeNegativeFrom: Range from a negative position reads nothing (and reports
// position 0) rather than Redis's "count from the end" reading the trail's last events.
// Guards against: audit_sinks.go:53 drop "|| from < 0"
func TestAuditRangeNegativeFrom(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	run, _ := newRun(t, runs.Tracked, time.Hour)
	store := c.Audit()
	for _, id := range []string{"ev-1", "ev-2"} {
		if _, err := store.Append(ctx, tokenEvent(id, run), []string{run.Space}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	got, first, err := store.(audit.Reader).Range(ctx, -1, 10)
	if err != nil || len(got) != 0 || first != 0 {
		t.Errorf("Range(-1, 10) = %d events from %d, %v; want none from 0", len(got), first, err)
	}
}

// TestTransitMetaCompareAndSwap: saving the vault-transit key set metadata is a
// compare-and-swap on its generation: a save whose expected generation is not the stored one
// (a replica that lost a race) fails with keys.ErrConflict and leaves the stored set alone; a
// stored record of generation 0 is corrupted.
// Guards against: transit.go:32 drop "if gen ~= tonumber(ARGV[1]) then return 0 end"
// Guards against: transit.go:69 drop "|| stored.Generation < 1"
func TestTransitMetaCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	meta := open(t, srv, prefix, suiteTimeout).TransitMeta()
	if err := meta.Save(ctx, vaulttransit.Records{Generation: 1}); err != nil {
		t.Fatalf("Save generation 1 on an empty store: %v", err)
	}
	for _, gen := range []int64{1, 3} {
		if err := meta.Save(ctx, vaulttransit.Records{Generation: gen}); !errors.Is(err, keys.ErrConflict) {
			t.Errorf("Save generation %d over generation 1: %v, want ErrConflict", gen, err)
		}
	}
	if got, err := meta.Load(ctx); err != nil || got.Generation != 1 {
		t.Errorf("Load after refused saves = generation %d, %v; want 1", got.Generation, err)
	}
	if err := srv.Client().Set(ctx, prefix+"{transit}:keyset", `{"format":1,"generation":0,"keys":[]}`, 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if _, err := meta.Load(ctx); !errors.Is(err, redisstore.ErrKeySetCorrupted) {
		t.Errorf("Load of a generation-0 record: %v, want ErrKeySetCorrupted", err)
	}
}

// TestCallerDeadlineIsNotAnOutage: a caller whose own context has already expired gets
// its context's error back, not ErrUnavailable (no outage is reported, no 503 for a client
// that gave up).
// Guards against: client.go:221 "if ctx.Err() == nil && Unavailable(err)" -> "if Unavailable(err)"
func TestCallerDeadlineIsNotAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	store := open(t, srv, uniquePrefix(), suiteTimeout).Runs()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := store.Get(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
	if err == nil || errors.Is(err, runs.ErrUnavailable) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Get with an expired caller context: %v; want the context error, not ErrUnavailable", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with an expired caller context: %v; want it to wrap context.DeadlineExceeded", err)
	}
}

// TestEvictionWatchMixedCluster: on a Cluster where one primary may evict any key and
// another only keys with an expiry, the watch reports the worst (Unsafe), whichever order
// the primaries are asked in.
// Guards against: eviction_watch.go:99 "if worst == evictsNothing {" -> "if true {"
func TestEvictionWatchMixedCluster(t *testing.T) {
	c := cluster(t)
	w := openCluster(t, c, uniquePrefix()).WatchEviction(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Every primary but the first evicts only expiring keys; the first evicts any key. The
	// watch asks them sorted by address, so volatile answers follow the allkeys one.
	for i, n := range c.Nodes {
		policy := "volatile-lru"
		if i == 0 {
			policy = "allkeys-lru"
		}
		setMemory(t, n.Client(), "100mb", policy)
	}
	w.Check(context.Background())
	if !w.Unsafe() {
		t.Error("a Cluster with an allkeys-lru primary and volatile-lru primaries: Unsafe() = false, want true")
	}
}
