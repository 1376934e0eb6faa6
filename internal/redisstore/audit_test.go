package redisstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestAuditContract(t *testing.T) {
	srv := redistest.Start(t)
	audittest.TestStore(t, func(t *testing.T) (audit.Store, audit.Store) {
		open := func() audit.Store {
			c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "audit-" + t.Name() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c.Audit()
		}
		return open(), open() // two replicas on one Redis
	})
}

func TestAuditAnchoring(t *testing.T) {
	srv := redistest.Start(t)
	audittest.TestAnchoring(t, func(t *testing.T) (audit.Store, audittest.Tamperer) {
		c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "anchor-" + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.Audit(), redisTamperer{c}
	})
}

// redisTamperer rewrites the audit keys of a Redis with plain commands.
type redisTamperer struct{ c *redisstore.Client }

func (r redisTamperer) Replace(t *testing.T, events []audit.Event) {
	ctx := context.Background()
	rdb, p := r.c.Redis(), r.c.Prefix()
	spaces, err := rdb.Keys(ctx, p+"audit:space:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, append(spaces, p+"audit:events", p+"audit:tail")...).Err(); err != nil {
		t.Fatal(err)
	}
	tail := ""
	for i, e := range events {
		raw, _ := json.Marshal(e)
		rdb.RPush(ctx, p+"audit:events", raw)
		rdb.RPush(ctx, p+"audit:space:root", i)
		if e.Action == audit.CheckpointAction {
			rdb.RPush(ctx, p+"audit:space:"+audit.CheckpointIndex, i)
		}
		if tail, err = audit.Hash(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Set(ctx, p+"audit:tail", tail, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditFeedContract(t *testing.T) {
	srv := redistest.Start(t)
	audittest.TestFeed(t, func(t *testing.T) audittest.Feed {
		open := func() audit.Store {
			c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "feed-" + t.Name() + ":"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c.Audit()
		}
		a, b := open(), open() // two replicas on one Redis
		return audittest.Feed{Store: a, Reader: a.(audit.Reader), A: a.(audit.Cursors), B: b.(audit.Cursors)}
	})
}

// TestLandedKeyExpires pins that the key recording a store's last appended batch (kept
// only so that a batch sent again after a lost reply lands once) expires within an hour, so
// that the stores of restarted replicas do not leave one key each behind for ever.
// Guards against: landed key SET without EX 3600 (audit.go:appendBatchScript)
func TestLandedKeyExpires(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Audit()
	if _, err := store.Append(ctx, audit.Event{ID: "probe-1", Action: "probe"}, nil); err != nil {
		t.Fatalf("Append: %v", err)
	}
	rdb := srv.Client()
	landed, err := rdb.Keys(ctx, prefix+"audit:landed:*").Result()
	if err != nil || len(landed) != 1 {
		t.Fatalf("landed keys = %v, %v; want one", landed, err)
	}
	if d, err := rdb.TTL(ctx, landed[0]).Result(); err != nil || d <= 0 || d > time.Hour {
		t.Errorf("TTL of %s = %v, %v; want (0, 1h]", landed[0], d, err)
	}
}
