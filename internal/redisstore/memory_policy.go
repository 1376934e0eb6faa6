package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrEvictsAnyKey is the error of CheckEvictionPolicy for a Redis that may evict keys without
// an expiry: maxmemory set with an allkeys-* maxmemory-policy.
var ErrEvictsAnyKey = errors.New("redis may evict keys that have no expiry")

// Eviction policies that maxmemory-policy takes, by what they may evict.
const (
	// policyNoEviction refuses writes when maxmemory is reached (OOM), which broker reports as
	// unavailability.
	policyNoEviction = "noeviction"
	// policyAllKeys starts the policies that may evict any key (allkeys-lru, allkeys-lfu,
	// allkeys-random).
	policyAllKeys = "allkeys-"
	// policyVolatile starts the policies that evict only keys with an expiry (volatile-lru,
	// volatile-lfu, volatile-random, volatile-ttl).
	policyVolatile = "volatile-"
)

// eviction is what a server's memory settings let it evict, as evictionOf tells.
type eviction int

const (
	// evictsNothing: no maxmemory, or noeviction.
	evictsNothing eviction = iota
	// evictsExpiring: maxmemory with a volatile-* policy, which evicts only keys with an expiry
	// (runs, run tokens, limiter counts).
	evictsExpiring
	// evictsAny: maxmemory with an allkeys-* policy, which may evict the audit chain, the
	// catalog and the key set.
	evictsAny
	// evictsUnknown: maxmemory with a policy this build does not know.
	evictsUnknown
)

// evictionOf returns what a server whose INFO memory says maxmemory and policy may evict. A
// maxmemory of 0 is no limit: nothing is evicted, whatever the policy.
func evictionOf(maxmemory int64, policy string) eviction {
	switch {
	case maxmemory <= 0 || policy == policyNoEviction:
		return evictsNothing
	case strings.HasPrefix(policy, policyAllKeys):
		return evictsAny
	case strings.HasPrefix(policy, policyVolatile):
		return evictsExpiring
	default:
		return evictsUnknown
	}
}

// serverMemory is what one server said of its memory settings, or why it could not be asked.
type serverMemory struct {
	// addr is the server's address on a Cluster, empty otherwise (there is one server).
	addr      string
	maxmemory int64
	policy    string
	err       error
}

// where names the server in messages: " at <addr>" on a Cluster, nothing otherwise.
func (m serverMemory) where() string {
	if m.addr == "" {
		return ""
	}
	return " at " + m.addr
}

// CheckEvictionPolicy reads maxmemory and maxmemory_policy from INFO memory of the primary (on a
// Cluster, of every primary; through Sentinel, of the primary the Sentinels name) and applies
// broker's rule on Redis eviction. The audit chain, the catalog, the key set and the audit key
// set record have no expiry and must never disappear silently, so:
//
//   - maxmemory set with an allkeys-* policy (allkeys-lru, allkeys-lfu, allkeys-random), which
//     may evict any of them under memory pressure: an error wrapping ErrEvictsAnyKey, naming the
//     setting and the fix (maxmemory-policy noeviction, or a volatile-* policy). broker must not
//     start on such a Redis.
//   - maxmemory set with a volatile-* policy, which evicts only keys with an expiry: a warning on
//     log, once, that runs may end early under memory pressure (an evicted run's token is
//     refused), and nil.
//   - maxmemory 0 or noeviction: nil, and nothing logged (noeviction refuses writes when full,
//     which the views report as ErrUnavailable).
//   - INFO refused (a managed Redis or an ACL may forbid it), failing (Redis unreachable), or
//     answering a policy this build does not know: a warning on log that the policy could not be
//     checked, and nil. broker still starts: a Redis that will not say is not known to evict.
//
// It asks once; it is meant for start-up.
func (c *Client) CheckEvictionPolicy(ctx context.Context, log *slog.Logger) error {
	servers := c.memorySettings(ctx)
	var expiring, unchecked []serverMemory
	for _, m := range servers {
		if m.err != nil {
			unchecked = append(unchecked, m)
			continue
		}
		switch evictionOf(m.maxmemory, m.policy) {
		case evictsAny:
			return fmt.Errorf("redisstore: %w: Redis%s has maxmemory %d and maxmemory-policy %s, so under memory pressure it may "+
				"silently evict broker's audit chain, catalog and key set; set maxmemory-policy noeviction (writes are refused "+
				"when Redis is full), a volatile-* policy such as volatile-lru (only keys with an expiry, such as runs, are evicted), "+
				"or maxmemory 0", ErrEvictsAnyKey, m.where(), m.maxmemory, m.policy)
		case evictsExpiring:
			expiring = append(expiring, m)
		case evictsUnknown:
			m.err = fmt.Errorf("unknown maxmemory_policy %q with maxmemory %d", m.policy, m.maxmemory)
			unchecked = append(unchecked, m)
		}
	}
	if len(expiring) > 0 {
		m := expiring[0]
		log.WarnContext(ctx, "redis: maxmemory is set with a volatile-* maxmemory-policy: under memory pressure Redis evicts "+
			"runs and run tokens, and those runs end early (their tokens are refused); maxmemory-policy noeviction refuses writes instead",
			append(nodesAttr(expiring), "maxmemory", m.maxmemory, "maxmemory_policy", m.policy)...)
	}
	if len(unchecked) > 0 {
		log.WarnContext(ctx, "redis: could not check the eviction policy (INFO memory); starting anyway. Make sure that "+
			"maxmemory-policy is noeviction or volatile-*: an allkeys-* policy may silently evict the audit chain, the catalog and the key set",
			append(nodesAttr(unchecked), "err", unchecked[0].err)...)
	}
	return nil
}

// nodesAttr returns the "nodes" attribute naming the Cluster nodes of servers, or none when
// there is one server.
func nodesAttr(servers []serverMemory) []any {
	var addrs []string
	for _, m := range servers {
		if m.addr != "" {
			addrs = append(addrs, m.addr)
		}
	}
	if len(addrs) == 0 {
		return nil
	}
	return []any{"nodes", addrs}
}

// memorySettings asks the primary, or every primary of a Cluster (sorted by address), for its
// memory settings.
func (c *Client) memorySettings(ctx context.Context) []serverMemory {
	cctx, cancel := c.bound(ctx)
	defer cancel()
	cc, ok := c.rdb.(*redis.ClusterClient)
	if !ok {
		m := memoryOf(cctx, c.rdb)
		m.err = c.wrapInfoErr(ctx, m.err)
		return []serverMemory{m}
	}
	var (
		mu      sync.Mutex
		servers []serverMemory
	)
	err := cc.ForEachMaster(cctx, func(ctx context.Context, node *redis.Client) error {
		m := memoryOf(ctx, node)
		m.addr = node.Options().Addr
		mu.Lock()
		servers = append(servers, m)
		mu.Unlock()
		return nil
	})
	if err != nil {
		// The nodes could not be learned: nothing was asked, or not every primary.
		servers = append(servers, serverMemory{err: err})
	}
	for i := range servers {
		servers[i].err = c.wrapInfoErr(ctx, servers[i].err)
	}
	slices.SortFunc(servers, func(a, b serverMemory) int { return strings.Compare(a.addr, b.addr) })
	return servers
}

// wrapInfoErr describes err, the failure to read INFO memory, as fail does; nil stays nil.
func (c *Client) wrapInfoErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return c.fail(ctx, "info memory", err)
}

// memoryOf reads maxmemory and maxmemory_policy from rdb's INFO memory.
func memoryOf(ctx context.Context, rdb redis.Cmdable) serverMemory {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return serverMemory{err: err}
	}
	return parseMemoryInfo(info)
}

// parseMemoryInfo reads maxmemory and maxmemory_policy from the text of INFO memory (lines of
// field:value); either missing or maxmemory not a number is an error.
func parseMemoryInfo(info string) serverMemory {
	var m serverMemory
	var haveMax, havePolicy bool
	for line := range strings.Lines(info) {
		field, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if !ok {
			continue
		}
		switch field {
		case "maxmemory":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return serverMemory{err: fmt.Errorf("INFO memory: maxmemory %q is not a number", value)}
			}
			m.maxmemory, haveMax = n, true
		case "maxmemory_policy":
			m.policy, havePolicy = value, true
		}
	}
	if !haveMax || !havePolicy {
		return serverMemory{err: errors.New("INFO memory: no maxmemory or maxmemory_policy field")}
	}
	return m
}
