package redisstore

import (
	"crypto/sha1" // #nosec G505 -- names a stored record for Redis's sha1hex, not a security hash
	"encoding/hex"
	"sync"

	"github.com/brokerhq/broker/internal/runs"
)

// maxCachedRuns bounds a Client's run cache; past it, a new entry evicts an arbitrary one.
const maxCachedRuns = 4096

// runCache keeps the runs GetByToken read, by token hash, each with the Version a checked
// audit append requires (see runs.Cache). It is a hint: an entry may be stale, and a token
// minted from it is handed out only if the append's script finds the run unchanged.
type runCache struct {
	mu sync.Mutex
	m  map[runs.TokenHash]cachedRun
}

type cachedRun struct {
	run runs.Run
	v   runs.Version
}

// recordDigest is the Version digest of a stored run record: the hex SHA-1 that Redis's
// redis.sha1hex computes of the same bytes.
func recordDigest(data string) string {
	sum := sha1.Sum([]byte(data)) // #nosec G401 -- see the import
	return hex.EncodeToString(sum[:])
}

// put remembers run, read by token from the stored record data.
func (c *runCache) put(token runs.TokenHash, run runs.Run, data string) {
	e := cachedRun{run: run, v: runs.Version{ID: run.ID, Token: token, Digest: recordDigest(data)}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[token]; !ok && len(c.m) >= maxCachedRuns {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[token] = e
}

// drop forgets token's run.
func (c *runCache) drop(token runs.TokenHash) {
	c.mu.Lock()
	delete(c.m, token)
	c.mu.Unlock()
}

// get returns token's run and its Version unless it has none, or the run is finished or expired.
func (c *runCache) get(token runs.TokenHash) (runs.Run, runs.Version, bool) {
	c.mu.Lock()
	e, ok := c.m[token]
	c.mu.Unlock()
	if !ok || e.run.Phase == runs.Finished || expired(e.run) {
		return runs.Run{}, runs.Version{}, false
	}
	return e.run, e.v, true
}
