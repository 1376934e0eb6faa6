package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// EvictionWatch applies CheckEvictionPolicy's rule again while broker runs, for a Redis whose
// memory settings change after the start: a CONFIG SET, or a failover to a server configured
// otherwise. It does not stop the service: every replica shares the Redis, so refusing would end
// the service everywhere, and an eviction takes access away (runs end early, API objects and
// the key set disappear) rather than granting it. It logs each change of what the servers may
// evict instead (an error when any key may be evicted, a warning when keys with an expiry may,
// and a notice when that ends), and Unsafe tells the metric. A check that cannot ask a server
// keeps the last answer: the start already warned when INFO is refused.
type EvictionWatch struct {
	c   *Client
	log *slog.Logger

	mu   sync.Mutex
	last eviction
}

// EvictionRecheck is how often a replica on Redis checks the eviction policy again.
const EvictionRecheck = time.Minute

// WatchEviction returns an EvictionWatch of c that logs to log, taking the start's check as its
// first answer (CheckEvictionPolicy has logged it).
func (c *Client) WatchEviction(ctx context.Context, log *slog.Logger) *EvictionWatch {
	w := &EvictionWatch{c: c, log: log}
	if level, ok := w.ask(ctx); ok {
		w.last = level
	}
	return w
}

// Unsafe reports whether the last check found a server that may evict keys without an expiry.
func (w *EvictionWatch) Unsafe() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last == evictsAny
}

// Run checks on every tick until ctx ends.
func (w *EvictionWatch) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			w.Check(ctx)
		}
	}
}

// Check asks every primary once and logs when what they may evict has changed since the last
// check.
func (w *EvictionWatch) Check(ctx context.Context) {
	level, ok := w.ask(ctx)
	if !ok {
		return
	}
	w.mu.Lock()
	changed := level != w.last
	w.last = level
	w.mu.Unlock()
	if !changed {
		return
	}
	switch level {
	case evictsAny:
		w.log.ErrorContext(ctx, "redis: maxmemory is now set with an allkeys-* maxmemory-policy: under memory pressure Redis may "+
			"silently evict broker's audit chain, catalog and key set; a replica would refuse to start on it. Set "+
			"maxmemory-policy noeviction, a volatile-* policy, or maxmemory 0")
	case evictsExpiring:
		w.log.WarnContext(ctx, "redis: maxmemory is now set with a volatile-* maxmemory-policy: under memory pressure Redis "+
			"evicts runs and run tokens, and those runs end early")
	default:
		w.log.InfoContext(ctx, "redis: the eviction policy no longer lets Redis evict broker's keys")
	}
}

// ask returns the most any primary may evict, and false when a primary could not be asked or
// answered a policy this build does not know.
func (w *EvictionWatch) ask(ctx context.Context) (eviction, bool) {
	worst := evictsNothing
	for _, m := range w.c.memorySettings(ctx) {
		if m.err != nil {
			return 0, false
		}
		switch level := evictionOf(m.maxmemory, m.policy); level {
		case evictsUnknown:
			return 0, false
		case evictsAny:
			worst = evictsAny
		case evictsExpiring:
			if worst == evictsNothing {
				worst = evictsExpiring
			}
		}
	}
	return worst, true
}
