package server

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
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
	close   func() error
	// sweep drops expired runs from a run store that does not expire them itself; nil when
	// the store does.
	sweep func() int
}

// openBackends opens the backends cfg names, with opts's clock and logger (both set).
func openBackends(ctx context.Context, cfg *config.Config, opts Options) (*backends, error) {
	now := opts.Now
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
	case config.BackendVaultTransit:
		vt, err := openVaultTransit(ctx, cfg, client, opts)
		if err != nil {
			_ = b.close()
			return nil, err
		}
		closeStore := b.close
		b.keys, b.close = vt, func() error { return errors.Join(vt.Close(), closeStore()) }
	default:
		_ = b.close()
		return nil, fmt.Errorf("keys.backend %q is not supported by this build (use memory, file, redis or vault-transit)", cfg.Keys.Backend)
	}
	return b, nil
}

// openVaultTransit opens the vault-transit key backend with the Vault token of VAULT_TOKEN, its
// key set metadata in the store's Redis when there is one, in memory otherwise (then adopting the
// versions Transit already holds at start-up, so a restart keeps the published keys).
func openVaultTransit(ctx context.Context, cfg *config.Config, client *redisstore.Client, opts Options) (*vaulttransit.Backend, error) {
	vt := cfg.Keys.VaultTransit
	token, _ := os.LookupEnv(vaulttransit.EnvToken)
	if token == "" {
		return nil, fmt.Errorf("keys.backend vault-transit: environment variable %s is not set: give broker a Vault token "+
			"that may create, read, rotate and sign with %s/keys/%s*", vaulttransit.EnvToken, vt.Mount, vt.Key)
	}
	tc := vaulttransit.Config{
		Address: vt.Address, Mount: vt.Mount, Key: vt.Key, Namespace: vt.Namespace, Token: token,
		Alg: cfg.Keys.Algorithm, Timeout: cfg.Limits.StoreTimeout, Logger: opts.Logger, Now: opts.Now,
		Prepublish: cfg.Keys.Rotation.Prepublish, Retain: cfg.Keys.Rotation.Retain,
	}
	if client != nil {
		tc.Meta = client.TransitMeta()
	} else {
		tc.Adopt = true
	}
	b, err := vaulttransit.New(ctx, tc)
	if err != nil {
		return nil, fmt.Errorf("keys.vault_transit: %w", err)
	}
	return b, nil
}
