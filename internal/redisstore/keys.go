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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/keys"
)

// Versions of the stored key set.
const (
	// keySetFormat is the key set sealed under a KeyEncryptionKey.
	keySetFormat = 2
	// clearKeySetFormat is the key set older brokers wrote, private keys in clear.
	clearKeySetFormat = 1
)

// Errors of the Keys backend beyond ErrUnavailable. None quotes key material.
var (
	// ErrNoKeyEncryptionKey: Keys was given no KeyEncryptionKey.
	ErrNoKeyEncryptionKey = errors.New("redisstore: the redis key backend needs a key encryption key")
	// ErrKeySetInClear: the stored key set holds its private keys in clear (an older broker wrote
	// it). It is neither used nor overwritten: whoever could read Redis may have copied its keys.
	ErrKeySetInClear = errors.New("redisstore: the key set in Redis holds its private keys in clear")
	// ErrKeySetOtherKey: the stored key set was encrypted under another KeyEncryptionKey.
	ErrKeySetOtherKey = errors.New("redisstore: the key set in Redis was encrypted under another key")
	// ErrKeySetCorrupted: the stored key set is malformed, or was changed since it was written.
	ErrKeySetCorrupted = errors.New("redisstore: stored key set is corrupted")
)

// Replies of saveKeySetScript besides a negated stored format.
const (
	saveConflict = 0
	saveDone     = 1
	saveOtherKey = 2
	saveNotASet  = 3
)

// saveKeySetScript is the compare-and-swap of Save: it replaces the key set only if the stored
// one (generation 0 when there is none) has the expected generation and is of this format and
// encrypted under the same key.
// KEYS: the key set key. ARGV: the expected generation, the new set's JSON, its format, its key id.
// A stored value that is this call's JSON is this very call, sent again after its reply was
// lost (each sealed set has a nonce of its own): saved. Returns saveDone when saved, saveConflict on another generation, saveOtherKey for a set
// encrypted under another key, saveNotASet for a value that is not a key set, and minus the
// stored format for a set of another format.
var saveKeySetScript = redis.NewScript(`
local gen = 0
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then return 1 end
if cur then
  local ok, set = pcall(cjson.decode, cur)
  if not ok or type(set) ~= 'table' or type(set.generation) ~= 'number'
     or type(set.format) ~= 'number' or set.format < 1 then
    return 3
  end
  if set.format ~= tonumber(ARGV[3]) then return -set.format end
  if set.kek_id ~= ARGV[4] then return 2 end
  gen = set.generation
end
if gen ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

// sealedKeySet is the JSON form of a key set in Redis: its generation in clear (for the
// compare-and-swap) and a storedKeySet sealed with AES-256-GCM under the key set's
// KeyEncryptionKey, with keySetAAD as additional data.
type sealedKeySet struct {
	Format     int    `json:"format"`
	Generation int64  `json:"generation"`
	KeyID      string `json:"kek_id"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// storedKeySet is the sealed plaintext: the key set with its private keys.
type storedKeySet struct {
	Format     int               `json:"format"`
	Generation int64             `json:"generation"`
	Keys       []storedKey       `json:"keys"`
	Revoked    []keys.Revocation `json:"revoked,omitempty"`
}

// storedKey is one key: its metadata and its private key as PKCS#8 DER (base64 in JSON).
type storedKey struct {
	keys.Meta
	PKCS8 []byte `json:"pkcs8"`
}

// keyBackend is the keys.Backend view of a Client.
type keyBackend struct {
	c   *Client
	kek *KeyEncryptionKey
}

var _ keys.Backend = (*keyBackend)(nil)

// Keys returns the client's keys.Backend: the whole key set in the one value <prefix>keyset,
// its private keys encrypted under kek, replaced by a compare-and-swap on its generation. A set
// found in clear, encrypted under another key or changed since it was written is refused (see
// the Err* of this package); so is every call when kek is nil. Errors reaching Redis wrap
// ErrUnavailable.
func (c *Client) Keys(kek *KeyEncryptionKey) keys.Backend { return &keyBackend{c: c, kek: kek} }

func (b *keyBackend) key() string { return b.c.key("keyset", "") }

// Generate implements keys.Backend: the key is created in process and sealed into Redis by Save.
func (b *keyBackend) Generate(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
	return keys.GenerateLocal(ctx, alg, now)
}

// Load implements keys.Backend.
func (b *keyBackend) Load(ctx context.Context) (keys.Set, error) {
	if b.kek == nil {
		return keys.Set{}, ErrNoKeyEncryptionKey
	}
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
	return b.unseal(data)
}

// Save implements keys.Backend.
func (b *keyBackend) Save(ctx context.Context, next keys.Set) error {
	if err := next.Validate(); err != nil {
		return err
	}
	if b.kek == nil {
		return ErrNoKeyEncryptionKey
	}
	data, err := b.seal(next)
	if err != nil {
		return err
	}
	cctx, cancel := b.c.bound(ctx)
	defer cancel()
	saved, err := saveKeySetScript.Run(cctx, b.c.rdb, []string{b.key()},
		next.Generation-1, data, keySetFormat, b.kek.ID()).Int()
	if err != nil {
		return b.c.fail(ctx, "save key set", err)
	}
	switch {
	case saved == saveDone:
		return nil
	case saved == saveConflict:
		return fmt.Errorf("%w: stored generation is not %d", keys.ErrConflict, next.Generation-1)
	case saved == saveOtherKey:
		return fmt.Errorf("%w (%s): refusing to overwrite it", ErrKeySetOtherKey, b.key())
	case saved == saveNotASet:
		return fmt.Errorf("%w: %s holds no key set: refusing to overwrite it", ErrKeySetCorrupted, b.key())
	case saved == -clearKeySetFormat:
		return b.inClear()
	default:
		return fmt.Errorf("%w: %s has format %d, want %d", ErrKeySetCorrupted, b.key(), -saved, keySetFormat)
	}
}

// seal returns the stored JSON of set.
func (b *keyBackend) seal(set keys.Set) ([]byte, error) {
	stored := storedKeySet{Format: keySetFormat, Generation: set.Generation, Keys: make([]storedKey, len(set.Keys)), Revoked: set.Revoked}
	defer func() {
		for _, k := range stored.Keys {
			clear(k.PKCS8)
		}
	}()
	for i, k := range set.Keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
		if err != nil {
			return nil, fmt.Errorf("redisstore: key %s: encode private key: %w", k.KID, err)
		}
		stored.Keys[i] = storedKey{Meta: k.Meta, PKCS8: der}
	}
	plaintext, err := json.Marshal(stored)
	if err != nil {
		return nil, errors.New("redisstore: encode key set failed") // never quote the keys
	}
	defer clear(plaintext)
	nonce, ciphertext, err := b.kek.seal(plaintext, keySetAAD(b.key(), set.Generation))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(sealedKeySet{
		Format: keySetFormat, Generation: set.Generation, KeyID: b.kek.ID(), Nonce: nonce, Ciphertext: ciphertext,
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode sealed key set: %w", err)
	}
	return data, nil
}

// unseal checks and decrypts a stored key set.
func (b *keyBackend) unseal(data []byte) (keys.Set, error) {
	var sealed sealedKeySet
	if err := json.Unmarshal(data, &sealed); err != nil {
		return keys.Set{}, fmt.Errorf("%w: %s is not JSON", ErrKeySetCorrupted, b.key())
	}
	switch {
	case sealed.Format == clearKeySetFormat:
		return keys.Set{}, b.inClear()
	case sealed.Format != keySetFormat:
		return keys.Set{}, fmt.Errorf("%w: %s has format %d, want %d", ErrKeySetCorrupted, b.key(), sealed.Format, keySetFormat)
	case sealed.KeyID != b.kek.ID():
		return keys.Set{}, fmt.Errorf("%w (%s has key id %q, the configured key has id %q): configure the key it was encrypted under",
			ErrKeySetOtherKey, b.key(), sealed.KeyID, b.kek.ID())
	}
	plaintext, ok := b.kek.open(sealed.Nonce, sealed.Ciphertext, keySetAAD(b.key(), sealed.Generation))
	if !ok {
		return keys.Set{}, fmt.Errorf("%w: %s does not decrypt: it was changed, or moved from another key or generation", ErrKeySetCorrupted, b.key())
	}
	defer clear(plaintext)
	set, err := decodeKeySet(plaintext)
	if err != nil {
		return keys.Set{}, err
	}
	if set.Generation != sealed.Generation {
		return keys.Set{}, fmt.Errorf("%w: %s: generation %d sealed as %d", ErrKeySetCorrupted, b.key(), set.Generation, sealed.Generation)
	}
	return set, nil
}

// inClear is the error about a key set stored in clear.
func (b *keyBackend) inClear() error {
	return fmt.Errorf("%w (%s, written by an older broker): whoever could read Redis may have copied them, so broker "+
		"will neither sign with them nor re-encrypt them; delete it (redis-cli DEL %s) and start broker again to "+
		"generate a new, encrypted key set", ErrKeySetInClear, b.key(), b.key())
}

// decodeKeySet parses a decrypted key set and its private keys. Its errors name keys by KID and
// never quote the stored bytes.
func decodeKeySet(data []byte) (keys.Set, error) {
	var stored storedKeySet
	if err := json.Unmarshal(data, &stored); err != nil {
		return keys.Set{}, fmt.Errorf("%w: invalid JSON", ErrKeySetCorrupted)
	}
	defer func() {
		for _, k := range stored.Keys {
			clear(k.PKCS8)
		}
	}()
	if stored.Format != keySetFormat {
		return keys.Set{}, fmt.Errorf("%w: format %d, want %d", ErrKeySetCorrupted, stored.Format, keySetFormat)
	}
	set := keys.Set{Generation: stored.Generation, Keys: make([]keys.Key, len(stored.Keys)), Revoked: stored.Revoked}
	for i, k := range stored.Keys {
		signer, err := parseSigner(k)
		if err != nil {
			return keys.Set{}, fmt.Errorf("%w: key %d: %w", ErrKeySetCorrupted, i, err)
		}
		set.Keys[i] = keys.Key{Meta: k.Meta, Signer: signer}
	}
	if err := set.Validate(); err != nil {
		return keys.Set{}, fmt.Errorf("%w: %w", ErrKeySetCorrupted, err)
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
