package server

import (
	"fmt"
	"os"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/keys"
)

// KeyPolicy is the rotation policy the replicas of cfg apply: keys.rotation, keys.algorithm, and
// the algorithms some relying party requires beside it.
func KeyPolicy(cfg *config.Config) keys.Policy {
	r := cfg.Keys.Rotation
	return keys.Policy{
		Period: r.Period, Prepublish: r.Prepublish, Retain: r.Retain, Alg: cfg.Keys.Algorithm,
		Also: exchange.RequiredAlgorithms(),
	}
}

// OpenKeyBackend opens the key set of cfg as a replica opens it, for a tool that changes the
// key set of running replicas (`broker keys`): the key directory of the file backend, or the
// store's Redis with the key encryption key keys.redis names. close releases the connection.
// The memory backend lives inside one process and cannot be reached; other backends are refused
// with a clear error until the tool supports them.
func OpenKeyBackend(cfg *config.Config) (b keys.Backend, close func() error, err error) {
	switch cfg.Keys.Backend {
	case config.BackendFile:
		return keys.NewFile(cfg.Keys.Dir), func() error { return nil }, nil
	case config.BackendRedis:
		if cfg.Store == nil || cfg.Store.Redis == nil {
			return nil, nil, fmt.Errorf("keys.backend redis needs store.redis")
		}
		kek, err := keyEncryptionKey(cfg.Keys.Redis, os.LookupEnv)
		if err != nil {
			return nil, nil, err
		}
		client, err := redisstore.Open(redisstore.Options{URL: cfg.Store.Redis.URL, Timeout: cfg.Limits.StoreTimeout})
		if err != nil {
			return nil, nil, fmt.Errorf("store.redis: %w", err)
		}
		return client.Keys(kek), client.Close, nil
	case config.BackendMemory:
		return nil, nil, fmt.Errorf("keys.backend memory keeps the key set inside each broker process: nothing outside it can read or rotate it")
	default:
		return nil, nil, fmt.Errorf("keys.backend %q: `broker keys` supports the file and redis backends", cfg.Keys.Backend)
	}
}
