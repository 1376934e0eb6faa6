package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

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
// key set of running replicas (`broker keys`): the key directory of the file backend, the store's
// Redis with the key encryption key keys.redis names, or Vault Transit with its key set metadata
// in the store's Redis. close releases the connections. It silences the Redis client's log,
// which is process-wide. The memory backend, and vault-transit without store.redis, keep the
// key set inside each broker process and cannot be reached.
func OpenKeyBackend(ctx context.Context, cfg *config.Config) (b keys.Backend, close func() error, err error) {
	switch cfg.Keys.Backend {
	case config.BackendFile:
		return keys.NewFile(cfg.Keys.Dir), func() error { return nil }, nil
	case config.BackendRedis, config.BackendVaultTransit:
		if cfg.Store == nil || cfg.Store.Redis == nil {
			if cfg.Keys.Backend == config.BackendVaultTransit {
				return nil, nil, fmt.Errorf("keys.backend vault-transit without store.redis keeps the key set's schedule inside each broker process, out of reach of broker keys")
			}
			return nil, nil, fmt.Errorf("keys.backend redis needs store.redis")
		}
		ro, err := redisOptions(cfg.Store.Redis)
		if err != nil {
			return nil, nil, fmt.Errorf("store.redis: %w", err)
		}
		ro.Timeout = cfg.Limits.StoreTimeout
		// A tool reports a failure in one line of its own: the Redis client's log lines
		// (each failed dial) would come before it.
		redisstore.SetLogger(slog.New(slog.DiscardHandler))
		client, err := redisstore.Open(ro)
		if err != nil {
			return nil, nil, fmt.Errorf("store.redis: %w", err)
		}
		if cfg.Keys.Backend == config.BackendVaultTransit {
			vt, err := openVaultTransit(ctx, cfg, client, Options{Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				_ = client.Close()
				return nil, nil, err
			}
			return vt, func() error { return errors.Join(vt.Close(), client.Close()) }, nil
		}
		kek, err := keyEncryptionKey(cfg.Keys.Redis, os.LookupEnv)
		if err != nil {
			_ = client.Close()
			return nil, nil, err
		}
		return client.Keys(kek), client.Close, nil
	case config.BackendMemory:
		return nil, nil, fmt.Errorf("keys.backend memory keeps the key set inside each broker process: nothing outside it can read or rotate it")
	default:
		return nil, nil, fmt.Errorf("keys.backend %q is not supported by `broker keys`", cfg.Keys.Backend)
	}
}
