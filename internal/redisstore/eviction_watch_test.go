package redisstore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestEvictionWatchFollowsAChangedPolicy: a policy changed after the start is noticed at the
// next check. Each change is logged once (an error for allkeys-*, a warning for volatile-*, a
// notice when it is safe again), Unsafe follows allkeys-*, and an unchanged policy logs nothing.
func TestEvictionWatchFollowsAChangedPolicy(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	setMemory(t, rc, "0", "noeviction")
	var buf syncbuf.Buffer
	w := open(t, srv, uniquePrefix(), suiteTimeout).WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	steps := []struct {
		maxmemory, policy string
		unsafe            bool
		// logged is a substring of the one line the check logs; empty means none.
		logged string
	}{
		{"0", "noeviction", false, ""},
		{"100mb", "allkeys-lru", true, `"level":"ERROR","msg":"redis: maxmemory is now set with an allkeys-*`},
		{"100mb", "allkeys-lfu", true, ""},
		{"100mb", "volatile-lru", false, `"level":"WARN","msg":"redis: maxmemory is now set with a volatile-*`},
		{"100mb", "allkeys-random", true, `"level":"ERROR"`},
		{"100mb", "noeviction", false, `"level":"INFO","msg":"redis: the eviction policy no longer`},
		{"0", "allkeys-lru", false, ""},
	}
	for i, s := range steps {
		setMemory(t, rc, s.maxmemory, s.policy)
		before := len(buf.String())
		w.Check(context.Background())
		logged := buf.String()[before:]
		if w.Unsafe() != s.unsafe {
			t.Errorf("step %d (%s, maxmemory %s): Unsafe() = %v, want %v", i, s.policy, s.maxmemory, w.Unsafe(), s.unsafe)
		}
		switch {
		case s.logged == "" && logged != "":
			t.Errorf("step %d (%s): logged %q, want nothing", i, s.policy, logged)
		case s.logged != "" && (!strings.Contains(logged, s.logged) || strings.Count(logged, "\n") != 1):
			t.Errorf("step %d (%s): logged %q, want one line with %q", i, s.policy, logged, s.logged)
		}
	}
}

// TestEvictionWatchStartsFromTheStartsAnswer: a watch opened on a Redis that already evicts
// expiring keys (the start warned) logs nothing until that changes, and one opened on an unsafe
// Redis reports it at once.
func TestEvictionWatchStartsFromTheStartsAnswer(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	setMemory(t, rc, "100mb", "volatile-lru")
	var buf syncbuf.Buffer
	c := open(t, srv, uniquePrefix(), suiteTimeout)
	w := c.WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	w.Check(context.Background())
	if got := buf.String(); got != "" || w.Unsafe() {
		t.Errorf("unchanged volatile-lru: logged %q, Unsafe() = %v", got, w.Unsafe())
	}
	setMemory(t, rc, "100mb", "allkeys-lru")
	if !c.WatchEviction(context.Background(), slog.New(slog.DiscardHandler)).Unsafe() {
		t.Error("a watch opened on an allkeys-lru Redis is not Unsafe")
	}
}

// TestEvictionWatchKeepsItsAnswerWhenRedisIsDown: a check that cannot reach Redis neither logs
// nor forgets that the policy was unsafe.
func TestEvictionWatchKeepsItsAnswerWhenRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	setMemory(t, srv.Client(), "100mb", "allkeys-lru")
	var buf syncbuf.Buffer
	w := open(t, srv, uniquePrefix(), suiteTimeout).WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	srv.Stop()
	w.Check(context.Background())
	if !w.Unsafe() {
		t.Error("Unsafe() = false after a check that could not reach Redis")
	}
	if strings.Contains(buf.String(), `"level":"INFO"`) {
		t.Errorf("a check that could not reach Redis logged %q", buf.String())
	}
}

// TestEvictionWatchOnACluster: on a Cluster the watch asks every primary, so one primary set to
// an allkeys-* policy after the start makes it Unsafe.
func TestEvictionWatchOnACluster(t *testing.T) {
	c := cluster(t)
	var buf syncbuf.Buffer
	w := openCluster(t, c, uniquePrefix()).WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	w.Check(context.Background())
	if w.Unsafe() || buf.String() != "" {
		t.Fatalf("default policies: Unsafe() = %v, logged %q", w.Unsafe(), buf.String())
	}
	last := c.Nodes[len(c.Nodes)-1]
	setMemory(t, last.Client(), "100mb", "allkeys-lru")
	w.Check(context.Background())
	if !w.Unsafe() || !strings.Contains(buf.String(), `"level":"ERROR"`) {
		t.Errorf("allkeys-lru on %s: Unsafe() = %v, logged %q", last.Addr(), w.Unsafe(), buf.String())
	}
}
