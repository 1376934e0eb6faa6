package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// mount is where the tests enable Transit.
const mount = "transit"

// keySeq numbers the Transit keys of a test binary, so each backend starts from none.
var keySeq atomic.Int64

func uniqueKey() string { return fmt.Sprintf("broker-t%d", keySeq.Add(1)) }

// startVault runs a dev server with Transit at mount and returns it with a token that may use
// only the Transit keys broker-*.
func startVault(t testing.TB) (*vaulttest.Server, string) {
	t.Helper()
	v := vaulttest.Start(t)
	v.EnableTransit(t, mount)
	return v, v.TransitToken(t, mount, "broker-", vaulttest.TokenOptions{TTL: time.Hour})
}

// newBackend opens a backend on cfg (Address, Mount and Token defaulted from v), closed when t
// ends.
func newBackend(t testing.TB, v *vaulttest.Server, token string, cfg vaulttransit.Config) *vaulttransit.Backend {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = v.Addr()
	}
	if cfg.Mount == "" {
		cfg.Mount = mount
	}
	if cfg.Key == "" {
		cfg.Key = uniqueKey()
	}
	if cfg.Token == "" {
		cfg.Token = token
	}
	b, err := vaulttransit.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("vaulttransit.New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// clockedKey is an ES256 Transit key of its own, made by a backend whose clock is clock, with
// the signer Generate returned and a digest to sign.
type clockedKey struct {
	vault  *vaulttest.Server
	name   string
	clock  *fakeclock.Clock
	b      *vaulttransit.Backend
	signer keys.ContextSigner
	digest []byte
}

// newClockedKey starts a Vault and generates a clockedKey on it.
func newClockedKey(t *testing.T) clockedKey {
	t.Helper()
	v, token := startVault(t)
	k := clockedKey{vault: v, name: uniqueKey(), clock: fakeclock.New(time.Now())}
	k.b = newBackend(t, v, token, vaulttransit.Config{Key: k.name, Alg: keys.ES256, Now: k.clock.Now})
	key, err := k.b.Generate(context.Background(), keys.ES256, k.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	k.signer = key.Signer.(keys.ContextSigner)
	d := sha256.Sum256([]byte("header.payload"))
	k.digest = d[:]
	return k
}

// otherChain is a stored key set holding one ES256 key, saved by a backend configured for RS256
// (the second algorithm chain), on a Vault of its own; another replica reads it with meta.
type otherChain struct {
	vault *vaulttest.Server
	token string
	name  string
	meta  vaulttransit.MetaStore
	key   keys.Key
}

// newOtherChain starts a Vault and saves an otherChain on it.
func newOtherChain(t *testing.T) otherChain {
	t.Helper()
	ctx := context.Background()
	v, token := startVault(t)
	c := otherChain{vault: v, token: token, name: uniqueKey(), meta: vaulttransit.NewMemoryMeta()}
	a := newBackend(t, v, token, vaulttransit.Config{Key: c.name, Alg: keys.RS256, Meta: c.meta})
	var err error
	if c.key, err = a.Generate(ctx, keys.ES256, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{c.key}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// saveFirstKey generates a key of alg through b and saves it as the set's first generation.
func saveFirstKey(t *testing.T, b *vaulttransit.Backend, alg string) keys.Key {
	t.Helper()
	ctx := context.Background()
	k, err := b.Generate(ctx, alg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k}}); err != nil {
		t.Fatal(err)
	}
	return k
}
