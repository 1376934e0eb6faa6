package redisstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCatalogCommitBehindWithoutCommitID pins that a commit expecting an older revision is stale
// even when the store holds no last-commit id (a store written before commit ids were kept, or
// whose id key was lost): the revision alone must then refuse it, so a replica that read an old
// head cannot overwrite a newer catalog.
// Guards against: revision compare "~=" made "<" in commitCatalogScript
// (catalog.go:commitCatalogScript)
func TestCatalogCommitBehindWithoutCommitID(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Catalog()
	rdb := srv.Client()
	if err := rdb.Set(ctx, prefix+"{catalog}:rev", "5", 0).Err(); err != nil {
		t.Fatal(err)
	}
	stale := catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "s"}, Version: 1, Body: []byte(`{}`)}}
	if head, err := store.Commit(ctx, catalog.Head{Revision: 3}, []catalog.Change{stale}); !errors.Is(err, catalog.ErrStale) {
		t.Fatalf("Commit at revision 3 on a store at 5 = %+v, %v; want ErrStale", head, err)
	}
	if snap, err := store.Load(ctx); err != nil || snap.Revision != 5 || len(snap.Records) != 0 {
		t.Fatalf("after a stale commit: Load = %+v, %v; want revision 5 and no records", snap, err)
	}
}

// TestCatalogRecordCreatedNotANumber pins that a stored record whose creation time is not a
// number makes Load fail rather than load the record with a made-up creation time.
// Guards against: created-time parse error ignored in parseRecord (catalog.go:parseRecord)
func TestCatalogRecordCreatedNotANumber(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Catalog()
	if err := srv.Client().HSet(ctx, prefix+"{catalog}:objects", "stack/vpc", "1:soon:{}").Err(); err != nil {
		t.Fatal(err)
	}
	if snap, err := store.Load(ctx); err == nil {
		t.Errorf("Load = %+v, nil; want a malformed-record error", snap)
	}
}
