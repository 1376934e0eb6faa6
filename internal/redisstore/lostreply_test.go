package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// dropProxy forwards to target, but once, for the first client write containing marker, it
// forwards the command and then cuts the client's connection before the reply: a reply lost
// in the network after Redis executed the command.
func dropProxy(t *testing.T, target string, marker []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var dropped atomic.Bool
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, s); c.Close() }()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						s.Write(buf[:n])
						if bytes.Contains(buf[:n], marker) && dropped.CompareAndSwap(false, true) {
							c.Close() // the reply never reaches the client
							time.Sleep(100 * time.Millisecond)
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
	if _, err := direct.Commit(context.Background(), 0, []catalog.Change{rec("warm", 1)}); err != nil { // loads the script
		t.Fatal(err)
	}
	addr := dropProxy(t, srv.Addr(), []byte(prefix+"{catalog}:objects"))
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0", Timeout: suiteTimeout, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := c.Catalog().Commit(context.Background(), 1, []catalog.Change{rec("s1", 1)})
	rev, _ := direct.Revision(context.Background())
	if err != nil || n != 2 || rev != 2 {
		t.Errorf("Commit answered %d, %v; the store is at revision %d, want 2 and 2", n, err, rev)
	}
	// Another commit at the old revision is still refused: only the same commit is recognised.
	if _, err := direct.Commit(context.Background(), 1, []catalog.Change{rec("s2", 1)}); !errors.Is(err, catalog.ErrStale) {
		t.Errorf("a different commit at the old revision: %v, want ErrStale", err)
	}
}
