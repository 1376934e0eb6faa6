package redisstore_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// stackChange is a change putting version v of stack id.
func stackChange(id string, v int64) catalog.Change {
	return catalog.Change{Record: catalog.Record{
		Ref:     catalog.Ref{Kind: catalog.KindStack, ID: id},
		Version: v,
		Body:    []byte(`{"id":"` + id + `"}`),
	}}
}

// TestCatalogCommitLostReplyAfterOtherCommit: when Redis applies a commit and the connection
// drops before its reply, and another replica commits on top of it before the client sends the
// commit again, Commit answers success, not catalog.ErrStale: the change is in force, and a
// refusal would have Apply record it as not committed and retry it (an If-Match retry would
// get 412 for a change that was made).
func TestCatalogCommitLostReplyAfterOtherCommit(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	direct := open(t, srv, prefix, suiteTimeout).Catalog()
	first, err := direct.Commit(ctx, catalog.Head{}, []catalog.Change{stackChange("warm", 1)})
	if err != nil {
		t.Fatal(err) // loads the script
	}
	addr := hookProxy(t, srv.Addr(), []byte(`{"id":"mine"}`), func() {
		now, err := direct.Head(ctx)
		if err == nil {
			_, err = direct.Commit(ctx, now, []catalog.Change{stackChange("other", 1)})
		}
		if err != nil {
			t.Errorf("the other replica's commit: %v", err)
		}
	})
	c, err := redisstore.Open(redisstore.Options{
		URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Catalog().Commit(ctx, first, []catalog.Change{stackChange("mine", 1)})
	snap, lerr := direct.Load(ctx)
	if lerr != nil {
		t.Fatal(lerr)
	}
	stored := map[string]bool{}
	for _, r := range snap.Records {
		stored[r.Ref.ID] = true
	}
	if !stored["mine"] || !stored["other"] || snap.Revision != 3 {
		t.Fatalf("store after both commits: revision %d, records %v; want 3 with mine and other",
			snap.Revision, stored)
	}
	if err != nil {
		t.Errorf("Commit whose reply was lost, applied before another replica's commit: %v; "+
			"want success, the commit is in force", err)
	}
}
