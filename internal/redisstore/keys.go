package redisstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/keys"
)

// keySetFormat is the version of the stored key set's JSON.
const keySetFormat = 1

// saveKeySetScript is the compare-and-swap of Save: it replaces the key set only if the stored
// generation (0 when there is none) is the expected one.
// KEYS: the key set key. ARGV: the expected generation, the new set's JSON.
// Returns 1 when saved, 0 on a conflict.
var saveKeySetScript = redis.NewScript(`
local gen = 0
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, set = pcall(cjson.decode, cur)
  if not ok or type(set) ~= 'table' or type(set.generation) ~= 'number' then
    return redis.error_reply('ERR stored key set is corrupted')
  end
  gen = set.generation
end
if gen ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

// storedKeySet is the JSON form of a key set in Redis.
type storedKeySet struct {
	Format     int         `json:"format"`
	Generation int64       `json:"generation"`
	Keys       []storedKey `json:"keys"`
}

// storedKey is one key: its metadata and its private key as PKCS#8 DER (base64 in JSON).
type storedKey struct {
	keys.Meta
	PKCS8 []byte `json:"pkcs8"`
}

// keyBackend is the keys.Backend view of a Client.
type keyBackend struct {
	c *Client
}

var _ keys.Backend = (*keyBackend)(nil)

// Keys returns the client's keys.Backend: the whole key set, private keys included, in the one
// value <prefix>keyset, replaced by a compare-and-swap on its generation. Read the package's
// security note: whoever can read that value can sign tokens. Errors reaching Redis wrap
// ErrUnavailable.
func (c *Client) Keys() keys.Backend { return &keyBackend{c: c} }

func (b *keyBackend) key() string { return b.c.key("keyset", "") }

// Load implements keys.Backend.
func (b *keyBackend) Load(ctx context.Context) (keys.Set, error) {
	cctx, cancel := b.c.bound(ctx)
	defer cancel()
	data, err := b.c.rdb.Get(cctx, b.key()).Bytes()
	if errors.Is(err, redis.Nil) {
		return keys.Set{}, nil
	}
	if err != nil {
		return keys.Set{}, b.c.fail(ctx, "load key set", err)
	}
	defer clear(data)
	return decodeKeySet(data)
}

// Save implements keys.Backend.
func (b *keyBackend) Save(ctx context.Context, next keys.Set) error {
	if err := next.Validate(); err != nil {
		return err
	}
	stored := storedKeySet{Format: keySetFormat, Generation: next.Generation, Keys: make([]storedKey, len(next.Keys))}
	defer func() {
		for _, k := range stored.Keys {
			clear(k.PKCS8)
		}
	}()
	for i, k := range next.Keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
		if err != nil {
			return fmt.Errorf("redisstore: key %s: encode private key: %w", k.KID, err)
		}
		stored.Keys[i] = storedKey{Meta: k.Meta, PKCS8: der}
	}
	data, err := json.Marshal(stored)
	if err != nil {
		return errors.New("redisstore: encode key set failed") // never quote the keys
	}
	defer clear(data)
	cctx, cancel := b.c.bound(ctx)
	defer cancel()
	saved, err := saveKeySetScript.Run(cctx, b.c.rdb, []string{b.key()}, next.Generation-1, data).Int()
	if err != nil {
		return b.c.fail(ctx, "save key set", err)
	}
	if saved != 1 {
		return fmt.Errorf("%w: stored generation is not %d", keys.ErrConflict, next.Generation-1)
	}
	return nil
}

// decodeKeySet parses a stored key set and its private keys. Its errors name keys by KID and
// never quote the stored bytes.
func decodeKeySet(data []byte) (keys.Set, error) {
	var stored storedKeySet
	if err := json.Unmarshal(data, &stored); err != nil {
		return keys.Set{}, errors.New("redisstore: stored key set is corrupted: invalid JSON")
	}
	defer func() {
		for _, k := range stored.Keys {
			clear(k.PKCS8)
		}
	}()
	if stored.Format != keySetFormat {
		return keys.Set{}, fmt.Errorf("redisstore: stored key set is corrupted: format %d, want %d",
			stored.Format, keySetFormat)
	}
	set := keys.Set{Generation: stored.Generation, Keys: make([]keys.Key, len(stored.Keys))}
	for i, k := range stored.Keys {
		signer, err := parseSigner(k)
		if err != nil {
			return keys.Set{}, fmt.Errorf("redisstore: stored key set is corrupted: key %d: %w", i, err)
		}
		set.Keys[i] = keys.Key{Meta: k.Meta, Signer: signer}
	}
	if err := set.Validate(); err != nil {
		return keys.Set{}, fmt.Errorf("redisstore: stored key set is corrupted: %w", err)
	}
	return set, nil
}

// parseSigner parses a stored private key and checks that it suits the key's alg and KID.
func parseSigner(k storedKey) (crypto.Signer, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.PKCS8)
	if err != nil {
		// x509 and asn1 errors describe the structure, never the key bytes.
		return nil, fmt.Errorf("key %s: parse private key: %w", k.KID, err)
	}
	var signer crypto.Signer
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if k.Alg != keys.RS256 {
			return nil, fmt.Errorf("key %s: %w: RSA key for %q", k.KID, keys.ErrUnsupportedAlg, k.Alg)
		}
		signer = p
	case *ecdsa.PrivateKey:
		if k.Alg != keys.ES256 || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key %s: %w: ECDSA key for %q", k.KID, keys.ErrUnsupportedAlg, k.Alg)
		}
		signer = p
	default:
		return nil, fmt.Errorf("key %s: %w: private key type %T", k.KID, keys.ErrUnsupportedAlg, priv)
	}
	if kid, err := keys.Thumbprint(signer.Public()); err != nil || kid != k.KID {
		return nil, fmt.Errorf("key %s: private key does not match the kid", k.KID)
	}
	return signer, nil
}
