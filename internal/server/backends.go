package server

import (
	"fmt"
	"os"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// backends is where a replica keeps its state: in memory for a single replica, or shared
// through Redis (and optionally a key directory) by several. With the redis key backend the
// key encryption key comes from the file or environment variable keys.redis names.
type backends struct {
	runs    runs.Store
	keys    keys.Backend
	limiter ratelimit.Limiter
	audit   audit.Store
	catalog catalog.Store
	// redis is the client of store.redis, nil when the state is in memory.
	redis *redisstore.Client
	close func() error
	// sweep drops expired runs from a run store that does not expire them itself; nil when
	// the store does.
	sweep func() int
}

func openBackends(cfg *config.Config, now func() time.Time) (*backends, error) {
	b := &backends{close: func() error { return nil }}
	policy := ratelimit.Policy{AuthFailures: cfg.Limits.AuthFailures, Window: cfg.Limits.Window, Cooloff: cfg.Limits.Cooloff}
	var client *redisstore.Client
	if cfg.Store != nil && cfg.Store.Redis != nil {
		var err error
		client, err = redisstore.Open(redisstore.Options{URL: cfg.Store.Redis.URL, Timeout: cfg.Limits.StoreTimeout})
		if err != nil {
			return nil, fmt.Errorf("store.redis: %w", err)
		}
		b.runs, b.limiter, b.audit, b.catalog, b.close = client.Runs(), client.Limiter(policy), client.Audit(), client.Catalog(), client.Close
		b.redis = client
	} else {
		mem := runs.NewMemory(now)
		b.runs, b.limiter, b.audit, b.catalog, b.sweep = mem, ratelimit.NewMemory(policy, now), audit.NewMemory(), catalog.NewMemory(), mem.Sweep
	}
	switch cfg.Keys.Backend {
	case config.BackendFile:
		b.keys = keys.NewFile(cfg.Keys.Dir)
	case config.BackendMemory:
		b.keys = keys.NewMemory()
	case config.BackendRedis:
		if client == nil {
			return nil, fmt.Errorf("keys.backend redis needs store.redis")
		}
		kek, err := keyEncryptionKey(cfg.Keys.Redis, os.LookupEnv)
		if err != nil {
			_ = b.close()
			return nil, err
		}
		b.keys = client.Keys(kek)
	default:
		_ = b.close()
		return nil, fmt.Errorf("keys.backend %q is not supported by this build (use memory, file or redis)", cfg.Keys.Backend)
	}
	return b, nil
}
