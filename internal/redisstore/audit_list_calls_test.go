package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
)

// listCalls is a go-redis hook counting the script calls that read the index at key.
type listCalls struct {
	key   string
	calls atomic.Int64
}

func (h *listCalls) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *listCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		name := cmd.Name()
		isScript := name == "evalsha" || name == "eval"
		if err == nil && isScript && len(args) > 3 && args[3] == h.key {
			h.calls.Add(1)
		}
		return err
	}
}

func (h *listCalls) ProcessPipelineHook(
	next redis.ProcessPipelineHook,
) redis.ProcessPipelineHook {
	return next
}

// listTrail opens a client on a fresh Redis whose trail holds n events per gap positions,
// the index of space "s" naming every gap-th of them (events whose Detail is their number in
// the space), and returns the client's audit store and a counter of its listing script calls.
func listTrail(t *testing.T, n, gap int) (*auditStore, *listCalls) {
	t.Helper()
	ctx := context.Background()
	srv := redistest.Start(t)
	c, err := Open(Options{URL: srv.URL(), Prefix: "list-calls:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := c.Audit().(*auditStore)
	rdb := srv.Client()
	for i := range n * gap {
		e := audit.Event{ID: fmt.Sprint(i), Action: "test", Detail: fmt.Sprint(i / gap)}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.RPush(ctx, s.eventsKey(), raw).Err(); err != nil {
			t.Fatal(err)
		}
		if i%gap == 0 {
			if err := rdb.RPush(ctx, s.spaceKey("s"), i).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := &listCalls{key: s.spaceKey("s")}
	c.Redis().AddHook(h)
	return s, h
}

// listAll lists all n events of space "s" in one page and checks that they come in order.
func listAll(t *testing.T, s *auditStore, n int) {
	t.Helper()
	got, next, err := s.List(context.Background(), "s", "", n)
	if err != nil || len(got) != n || next != "" {
		t.Fatalf("List of %d = %d events, next %q, %v; want all of them", n, len(got), next, err)
	}
	for i, e := range got {
		if e.Detail != fmt.Sprint(i) {
			t.Fatalf("event %d of the page is the space's event %s", i, e.Detail)
		}
	}
}

// TestListSparseRunsPerCall: one listing script call reads up to maxRunsPerCall runs of
// consecutive positions, and no more: a page of that many scattered events takes one call, a
// page of one more takes two, so a call stays bounded whatever the space's sparseness.
// Guards against: audit.go:listEventsScript "runs < ARGV[3]" -> "runs <= ARGV[3]"
// Guards against: audit.go:listEventsScript drop "runs = runs + 1" (unbounded call)
// Guards against: audit.go:listEventsScript runs start at 1 (one run fewer per call)
func TestListSparseRunsPerCall(t *testing.T) {
	cases := []struct{ n, calls int }{{maxRunsPerCall, 1}, {maxRunsPerCall + 1, 2}}
	for _, tc := range cases {
		s, h := listTrail(t, tc.n, 2)
		listAll(t, s, tc.n)
		if got := h.calls.Load(); got != int64(tc.calls) {
			t.Errorf("a page of %d scattered events took %d script calls, want %d",
				tc.n, got, tc.calls)
		}
	}
}

// TestListRunInOneRead: the events of consecutive positions are one run, read together:
// a page of more consecutive events than maxRunsPerCall takes one script call.
// Guards against: audit.go:listEventsScript compare idx[j + 1] without tonumber (no run is merged)
func TestListRunInOneRead(t *testing.T) {
	const n = 3 * maxRunsPerCall
	s, h := listTrail(t, n, 1)
	listAll(t, s, n)
	if got := h.calls.Load(); got != 1 {
		t.Errorf("a page of %d consecutive events took %d script calls, want 1", n, got)
	}
}
