package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// dropProxy forwards to target, but once, for the first client write containing marker, it
// forwards the command and then cuts the client's connection without the reply: a reply lost
// in the network after Redis executed the command.
func dropProxy(t *testing.T, target string, marker []byte) string {
	return hookProxy(t, target, marker, nil)
}

// hookProxy is dropProxy that, when hook is not nil, calls it once Redis had the command and the
// client's connection is cut, and holds the client's new connections until hook returns: what
// another replica does while the reply is lost.
func hookProxy(t *testing.T, target string, marker []byte, hook func()) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var dropped atomic.Bool
	hooked := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if dropped.Load() {
				<-hooked
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			var cut atomic.Bool
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && !cut.Load() {
						c.Write(buf[:n])
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						drop := bytes.Contains(buf[:n], marker) && dropped.CompareAndSwap(false, true)
						if drop {
							cut.Store(true) // the reply never reaches the client
						}
						s.Write(buf[:n])
						if drop {
							c.Close()
							time.Sleep(100 * time.Millisecond) // Redis runs the command
							if hook != nil {
								hook()
							}
							close(hooked)
							s.Close()
							return
						}
					}
					if err != nil {
						s.Close()
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestCreateWhoseReplyIsLost: Redis stores a run and the connection drops before its reply;
// the client sends the call again, and Create answers the run stored, not "id taken".
func TestCreateWhoseReplyIsLost(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	createRun(t, open(t, srv, prefix, suiteTimeout).Runs(), time.Hour) // loads the script
	addr := dropProxy(t, srv.Addr(), []byte(prefix+"runtoken:"))
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run, token := newRun(t, runs.Tracked, time.Hour)
	err = c.Runs().Create(context.Background(), run, runs.HashToken(token))
	got, gerr := c.Runs().Get(context.Background(), run.ID)
	if err != nil || gerr != nil || got.ID != run.ID {
		t.Errorf("Create answered %v; the run read afterwards: %+v, %v", err, got, gerr)
	}
	if byToken, err := c.Runs().GetByToken(context.Background(), runs.HashToken(token)); err != nil || byToken.ID != run.ID {
		t.Errorf("the run by its token: %+v, %v", byToken, err)
	}
}

// TestCatalogCommitWhoseReplyIsLost: Redis applies a commit and the connection drops before its
// reply; the client sends it again, and Commit answers the new revision, not ErrStale.
func TestCatalogCommitWhoseReplyIsLost(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	direct := open(t, srv, prefix, suiteTimeout).Catalog()
	rec := func(id string, v int64) catalog.Change {
		return catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindStack, ID: id}, Version: v, Body: []byte(`{"id":"` + id + `"}`)}}
	}
	first, err := direct.Commit(context.Background(), catalog.Head{}, []catalog.Change{rec("warm", 1)}) // loads the script
	if err != nil {
		t.Fatal(err)
	}
	addr := dropProxy(t, srv.Addr(), []byte(prefix+"{catalog}:objects"))
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := c.Catalog().Commit(context.Background(), first, []catalog.Change{rec("s1", 1)})
	now, _ := direct.Head(context.Background())
	if err != nil || n.Revision != 2 || now != n {
		t.Errorf("Commit answered %+v, %v; the store is at %+v, want both at revision 2 of that commit", n, err, now)
	}
	// Another commit at the old revision is still refused: only the same commit is recognised.
	if _, err := direct.Commit(context.Background(), first, []catalog.Change{rec("s2", 1)}); !errors.Is(err, catalog.ErrStale) {
		t.Errorf("a different commit at the old revision: %v, want ErrStale", err)
	}
}

// TestAuditAppendWhoseReplyIsLost: Redis appends a batch and the connection drops before its
// reply; the client sends the batch again, which lands once: when another replica appended
// meanwhile (recognised by the store's landed key), and when the landed key is gone, which a
// volatile-* maxmemory policy may evict (recognised by the chain's tail being the batch's own).
func TestAuditAppendWhoseReplyIsLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		// meanwhile runs while the reply is lost, with a client of the same Redis.
		meanwhile func(ctx context.Context, direct *redisstore.Client, prefix string) error
		want      []string
	}{
		{"another replica appends", func(ctx context.Context, direct *redisstore.Client, _ string) error {
			_, err := direct.Audit().Append(ctx, audit.Event{ID: "other", Action: "test"}, []string{"root"})
			return err
		}, []string{"warm", "known", "mine", "other"}},
		{"the landed key is evicted", func(ctx context.Context, direct *redisstore.Client, prefix string) error {
			keys, err := direct.Redis().Keys(ctx, prefix+"audit:landed:*").Result()
			if err == nil && len(keys) > 0 {
				err = direct.Redis().Del(ctx, keys...).Err()
			}
			return err
		}, []string{"warm", "known", "mine"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			prefix := uniquePrefix()
			ctx := context.Background()
			direct := open(t, srv, prefix, suiteTimeout)
			if _, err := direct.Audit().Append(ctx, audit.Event{ID: "warm", Action: "test"}, []string{"root"}); err != nil { // loads the script
				t.Fatal(err)
			}
			addr := hookProxy(t, srv.Addr(), []byte(`"id":"mine"`), func() {
				if err := tc.meanwhile(ctx, direct, prefix); err != nil {
					t.Error(err)
				}
			})
			c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			mine := c.Audit()
			if _, err := mine.Append(ctx, audit.Event{ID: "known", Action: "test"}, []string{"root"}); err != nil { // learns the tail
				t.Fatal(err)
			}
			if _, err := mine.Append(ctx, audit.Event{ID: "mine", Action: "test"}, []string{"root"}); err != nil {
				t.Fatalf("Append whose reply was lost: %v", err)
			}
			events, _, err := direct.Audit().List(ctx, "root", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range events {
				ids = append(ids, e.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("chain holds %v, want %v", ids, tc.want)
			}
		})
	}
}
