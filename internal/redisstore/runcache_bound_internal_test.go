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
		c.put(nthToken(i), run, "data")
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

// TestRunCacheRefusesExpiredAndFinished pins that the run cache offers no run past its
// expiry or finished, even while it still holds the entry: a token minted from the cache must
// not outlive its run because no lookup has dropped the entry yet.
// Guards against: expiry check dropped from runCache.get (runcache.go:get)
// Guards against: finished check dropped from runCache.get (runcache.go:get)
func TestRunCacheRefusesExpiredAndFinished(t *testing.T) {
	c := &runCache{m: map[runs.TokenHash]cachedRun{}}
	live := runs.Run{ID: "live", Phase: runs.Applying, ExpiresAt: time.Now().Add(time.Hour)}
	for _, tc := range []struct {
		name string
		run  runs.Run
		want bool
	}{
		{"live", live, true},
		{"expired", runs.Run{ID: "old", Phase: runs.Applying, ExpiresAt: time.Now().Add(-time.Millisecond)}, false},
		{"finished", runs.Run{ID: "done", Phase: runs.Finished, ExpiresAt: time.Now().Add(time.Hour)}, false},
	} {
		var tok runs.TokenHash
		copy(tok[:], tc.name)
		c.put(tok, tc.run, "{}")
		got, v, ok := c.get(tok)
		if ok != tc.want {
			t.Errorf("%s: get ok = %v, want %v", tc.name, ok, tc.want)
			continue
		}
		if ok && (got.ID != tc.run.ID || v.ID != tc.run.ID || v.Token != tok || v.Digest != recordDigest("{}")) {
			t.Errorf("%s: get = %+v, %+v; want the run put with its version", tc.name, got, v)
		}
	}
}

// nthToken is the i-th of distinct token hashes.
func nthToken(i int) runs.TokenHash {
	var tok runs.TokenHash
	tok[0], tok[1], tok[2] = byte(i), byte(i>>8), byte(i>>16)
	return tok
}

// TestRunCacheFullReplaceKeepsOthers: in a full run cache, reading again a run whose
// token is already cached replaces its entry in place and evicts no other entry.
// Guards against: runcache.go:put evicts an entry even when the token is already cached
func TestRunCacheFullReplaceKeepsOthers(t *testing.T) {
	c := &runCache{m: map[runs.TokenHash]cachedRun{}}
	run := runs.Run{ID: "r", Phase: runs.Applying, ExpiresAt: time.Now().Add(time.Hour)}
	for i := range maxCachedRuns {
		c.put(nthToken(i), run, "old")
	}
	for i := range maxCachedRuns {
		c.put(nthToken(i), run, "new")
		if n := len(c.m); n != maxCachedRuns {
			t.Fatalf("after re-reading cached run %d the cache holds %d runs, want %d",
				i, n, maxCachedRuns)
		}
	}
	for i := range maxCachedRuns {
		_, v, ok := c.get(nthToken(i))
		if !ok || v.Digest != recordDigest("new") {
			t.Fatalf("cached run %d = %+v, %v; want it kept with the digest of its new read",
				i, v, ok)
		}
	}
}
