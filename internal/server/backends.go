package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/brokerhq/broker/internal/api"
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
	runs runs.Store
	keys keys.Backend
	// keyService is the service that signs (Vault's Transit engine), nil when broker holds the
	// private keys itself.
	keyService api.Pinger
	limiter    ratelimit.Limiter
	audit      audit.Store
	// auditKeySet keeps, beside audit, the key set the trail last recorded.
	auditKeySet audit.KeySetStore
	catalog     catalog.Store
	// redis is the client of store.redis, nil when the state is in memory.
	redis *redisstore.Client
	// eviction checks Redis's eviction policy again while the replica runs; nil without Redis.
	eviction *redisstore.EvictionWatch
	// keysInRedis: the key set (or Transit's key metadata) is in Redis, which can lose saves.
	keysInRedis bool
	close       func() error
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
		redisstore.SetLogger(opts.Logger)
		var err error
		opts, err := redisOptions(cfg.Store.Redis)
		if err != nil {
			return nil, err
		}
		opts.Timeout = cfg.Limits.StoreTimeout
		client, err = redisstore.Open(opts)
		if err != nil {
			return nil, fmt.Errorf("store.redis: %w", err)
		}
		b.runs, b.limiter, b.audit, b.catalog, b.close = client.Runs(), client.Limiter(policy), client.Audit(), client.Catalog(), client.Close
		b.auditKeySet = client.AuditKeySet()
		b.redis = client
	} else {
		mem := runs.NewMemory(now)
		b.runs, b.limiter, b.audit, b.catalog, b.sweep = mem, ratelimit.NewMemory(policy, now), audit.NewMemoryRetaining(cfg.Audit.Memory.Retain), catalog.NewMemory(), mem.Sweep
		b.auditKeySet = &audit.MemoryKeySet{}
	}
	if client != nil {
		// A Redis that may evict keys without an expiry refuses the start (see CheckEvictionPolicy).
		if err := client.CheckEvictionPolicy(ctx, opts.Logger); err != nil {
			_ = b.close()
			return nil, fmt.Errorf("store.redis: %w", err)
		}
		b.eviction = client.WatchEviction(ctx, opts.Logger)
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
		b.keys, b.keysInRedis = client.Keys(kek), true
	case config.BackendVaultTransit:
		vt, err := openVaultTransit(ctx, cfg, client, opts)
		if err != nil {
			_ = b.close()
			return nil, err
		}
		closeStore := b.close
		b.keys, b.keyService, b.close = vt, vt, func() error { return errors.Join(vt.Close(), closeStore()) }
		b.keysInRedis = client != nil
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

// redisOptions turns store.redis into the client's options, reading the password files it
// names (which, like the key encryption key, must be mode 0600 and owned by broker's user).
// Errors name the files, never their content.
func redisOptions(r *config.Redis) (redisstore.Options, error) {
	auth := redisstore.Auth{Username: r.Username}
	var err error
	if auth.Password, err = readPassword("store.redis.password_file", r.PasswordFile); err != nil {
		return redisstore.Options{}, err
	}
	if r.Sentinel == nil && r.Cluster == nil {
		return redisstore.Options{URL: r.URL, URLAuth: auth}, nil
	}
	if r.TLS {
		auth.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c := r.Cluster; c != nil {
		return redisstore.Options{Cluster: &redisstore.Cluster{Addrs: c.Addrs, Auth: auth}}, nil
	}
	s := r.Sentinel
	sentinelPassword, err := readPassword("store.redis.sentinel.password_file", s.PasswordFile)
	if err != nil {
		return redisstore.Options{}, err
	}
	return redisstore.Options{Sentinel: &redisstore.Sentinel{
		Master: s.Master, Addrs: s.Addrs, DB: s.DB, SentinelPassword: sentinelPassword, Auth: auth,
	}}, nil
}

// readPassword returns the password in the file at path without a final line break, or ""
// when path is empty. field names the setting in errors.
func readPassword(field, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := keys.ReadPrivateFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	defer clear(data)
	password := strings.TrimRight(string(data), "\r\n")
	if password == "" {
		return "", fmt.Errorf("%s: %s is empty", field, path)
	}
	return password, nil
}
