package redisstore

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestRunCacheBounded: the run cache never holds more than maxCachedRuns entries, however
// many distinct tokens are read; a token already cached is replaced in place.
// Guards against: runcache.go:39 drop the eviction when the cache is full
func TestRunCacheBounded(t *testing.T) {
	c := &runCache{m: map[runs.TokenHash]cachedRun{}}
	run := runs.Run{ID: "r", ExpiresAt: time.Now().Add(time.Hour)}
	for i := 0; i < maxCachedRuns+10; i++ {
		var tok runs.TokenHash
		tok[0], tok[1], tok[2] = byte(i), byte(i>>8), byte(i>>16)
		c.put(tok, run, "data")
	}
	if n := len(c.m); n != maxCachedRuns {
		t.Errorf("cache holds %d runs, want %d", n, maxCachedRuns)
	}
	var first runs.TokenHash
	c.put(first, run, "other") // may be present or evicted; either way the bound holds
	if n := len(c.m); n > maxCachedRuns {
		t.Errorf("cache holds %d runs after re-put, want at most %d", n, maxCachedRuns)
	}
}
