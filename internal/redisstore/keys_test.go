package redisstore_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

var keysEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestKeysContract(t *testing.T) {
	srv := redistest.Start(t)
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		return open(t, srv, uniquePrefix(), suiteTimeout).Keys(newKEK(t))
	})
}

// sealedForm is the stored JSON of a key set, as an operator reading Redis sees it.
type sealedForm struct {
	Format     int    `json:"format"`
	Generation int64  `json:"generation"`
	KeyID      string `json:"kek_id"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// secretForms returns the shapes in which k's private key could leak: its PKCS#8 DER, that DER
// in base64 and PEM, and its private scalar or exponent in hex.
func secretForms(t *testing.T, k keys.Key) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string][]byte{
		"PKCS#8 DER":        der,
		"PKCS#8 base64":     []byte(base64.StdEncoding.EncodeToString(der)),
		"PKCS#8 base64url":  []byte(base64.RawURLEncoding.EncodeToString(der)),
		"PEM type":          []byte("PRIVATE KEY"),
		"PKCS#8 JSON field": []byte("pkcs8"),
	}
	switch p := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		d, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		forms["ECDSA scalar"] = d
		forms["ECDSA scalar hex"] = []byte(hex.EncodeToString(d))
	case *rsa.PrivateKey:
		forms["RSA exponent"] = p.D.Bytes()
		forms["RSA prime base64"] = []byte(base64.StdEncoding.EncodeToString(p.Primes[0].Bytes()))
	}
	return forms
}

// checkNoSecret fails t when data holds any of the given keys' private key in a known form.
func checkNoSecret(t *testing.T, what string, data []byte, ks ...keys.Key) {
	t.Helper()
	for _, k := range ks {
		for form, secret := range secretForms(t, k) {
			if bytes.Contains(data, secret) {
				t.Errorf("%s holds the private key of %s (%s)", what, k.KID, form)
			}
		}
	}
}

// getRaw returns the stored value of the key set of prefix.
func getRaw(t *testing.T, srv *redistest.Server, prefix string) []byte {
	t.Helper()
	raw, err := srv.Client().Get(context.Background(), prefix+"keyset").Bytes()
	if err != nil {
		t.Fatalf("GET keyset: %v", err)
	}
	return raw
}

func setRaw(t *testing.T, srv *redistest.Server, prefix string, raw []byte) {
	t.Helper()
	if err := srv.Client().Set(context.Background(), prefix+"keyset", raw, 0).Err(); err != nil {
		t.Fatalf("SET keyset: %v", err)
	}
}

// TestKeysStoredEncrypted checks that the value in Redis holds no private key, that it is an
// AES-256-GCM ciphertext under the key encryption key bound to its Redis key and generation,
// and that it loads with that key only.
func TestKeysStoredEncrypted(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	secret := make([]byte, redisstore.KeyEncryptionKeySize)
	_, _ = rand.Read(secret)
	kek, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	rs := keystest.NewKey(t, keys.RS256, keysEpoch)
	if err := open(t, srv, prefix, suiteTimeout).Keys(kek).Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es, rs}}); err != nil {
		t.Fatalf("Save: %v", err)
	}

	raw := getRaw(t, srv, prefix)
	checkNoSecret(t, "the value in Redis", raw, es, rs)
	var stored sealedForm
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("stored key set is not JSON: %v", err)
	}
	if stored.Format != 2 || stored.Generation != 1 || stored.KeyID != kek.ID() || len(stored.Nonce) != 12 {
		t.Fatalf("stored key set: format %d, generation %d, key id %q, %d-byte nonce; want 2, 1, %q, 12",
			stored.Format, stored.Generation, stored.KeyID, len(stored.Nonce), kek.ID())
	}

	// The ciphertext opens with AES-256-GCM under the key and the bound data, and not otherwise.
	aad := []byte("broker keyset format 2\x00" + prefix + "keyset\x001")
	plaintext, err := stored.gcmOpen(t, secret, aad)
	if err != nil {
		t.Fatalf("the ciphertext does not open under the key encryption key: %v", err)
	}
	for _, der := range []keys.Key{es, rs} {
		if !bytes.Contains(plaintext, secretForms(t, der)["PKCS#8 base64"]) {
			t.Errorf("the plaintext lacks the private key of %s", der.KID)
		}
	}
	other := make([]byte, len(secret))
	_, _ = rand.Read(other)
	if _, err := stored.gcmOpen(t, other, aad); err == nil {
		t.Error("the ciphertext opens under another key")
	}
	if _, err := stored.gcmOpen(t, secret, []byte("broker keyset format 2\x00other:keyset\x001")); err == nil {
		t.Error("the ciphertext opens for another Redis key")
	}

	// Another replica with the same key loads a set that signs; one with another key is refused.
	set, err := open(t, srv, prefix, suiteTimeout).Keys(kek).Load(ctx)
	if err != nil || set.Generation != 1 || len(set.Keys) != 2 {
		t.Fatalf("Load with the key encryption key = generation %d, %d keys, %v", set.Generation, len(set.Keys), err)
	}
	keystest.SignAndVerify(t, keys.ES256, set.Keys[0].Signer, es.Signer.Public())
	keystest.SignAndVerify(t, keys.RS256, set.Keys[1].Signer, rs.Signer.Public())
	wrong := newKEK(t)
	_, err = open(t, srv, prefix, suiteTimeout).Keys(wrong).Load(ctx)
	if !errors.Is(err, redisstore.ErrKeySetOtherKey) || !strings.Contains(err.Error(), "encrypted under another key") ||
		!strings.Contains(err.Error(), kek.ID()) || !strings.Contains(err.Error(), wrong.ID()) {
		t.Fatalf("Load with another key = %v, want ErrKeySetOtherKey naming both key ids", err)
	}
}

// gcmOpen opens s's ciphertext with AES-256-GCM under the key secret, its nonce and the
// additional data aad.
func (s sealedForm) gcmOpen(t *testing.T, secret, aad []byte) ([]byte, error) {
	t.Helper()
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Open(nil, s.Nonce, s.Ciphertext, aad)
}

// TestKeysRefusesTampering checks that a stored key set changed in Redis is refused, with an
// error that says what is wrong and quotes no key material.
func TestKeysRefusesTampering(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	kek, other := newKEK(t), newKEK(t)
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw []byte) []byte
		want   error
	}{
		{"flipped ciphertext byte", editSealed(func(s *sealedForm) { s.Ciphertext[len(s.Ciphertext)/2] ^= 1 }), redisstore.ErrKeySetCorrupted},
		{"flipped tag byte", editSealed(func(s *sealedForm) { s.Ciphertext[len(s.Ciphertext)-1] ^= 0x80 }), redisstore.ErrKeySetCorrupted},
		{"truncated ciphertext", editSealed(func(s *sealedForm) { s.Ciphertext = s.Ciphertext[:10] }), redisstore.ErrKeySetCorrupted},
		{"flipped nonce byte", editSealed(func(s *sealedForm) { s.Nonce[0] ^= 1 }), redisstore.ErrKeySetCorrupted},
		{"short nonce", editSealed(func(s *sealedForm) { s.Nonce = s.Nonce[:8] }), redisstore.ErrKeySetCorrupted},
		{"generation changed", editSealed(func(s *sealedForm) { s.Generation = 7 }), redisstore.ErrKeySetCorrupted},
		{"unknown format", editSealed(func(s *sealedForm) { s.Format = 3 }), redisstore.ErrKeySetCorrupted},
		{"key id of another key", editSealed(func(s *sealedForm) { s.KeyID = other.ID() }), redisstore.ErrKeySetOtherKey},
		{"not JSON", func(*testing.T, []byte) []byte { return []byte("{garbage") }, redisstore.ErrKeySetCorrupted},
		{"sealed under another key, its key id forged", func(t *testing.T, _ []byte) []byte {
			prefix := uniquePrefix()
			if err := open(t, srv, prefix, suiteTimeout).Keys(other).Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es}}); err != nil {
				t.Fatal(err)
			}
			return editSealed(func(s *sealedForm) { s.KeyID = kek.ID() })(t, getRaw(t, srv, prefix))
		}, redisstore.ErrKeySetCorrupted},
		{"copied from another prefix", func(t *testing.T, _ []byte) []byte {
			prefix := uniquePrefix()
			if err := open(t, srv, prefix, suiteTimeout).Keys(kek).Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es}}); err != nil {
				t.Fatal(err)
			}
			return getRaw(t, srv, prefix)
		}, redisstore.ErrKeySetCorrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := uniquePrefix()
			b := open(t, srv, prefix, suiteTimeout).Keys(kek)
			if err := b.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es}}); err != nil {
				t.Fatalf("Save: %v", err)
			}
			setRaw(t, srv, prefix, tt.tamper(t, getRaw(t, srv, prefix)))
			_, err := b.Load(ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load of a tampered key set = %v, want %v", err, tt.want)
			}
			checkNoSecret(t, "the error", []byte(err.Error()), es)
		})
	}
}

// editSealed returns a tamper function applying edit to the decoded stored form.
func editSealed(edit func(*sealedForm)) func(t *testing.T, raw []byte) []byte {
	return func(t *testing.T, raw []byte) []byte {
		t.Helper()
		var s sealedForm
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		edit(&s)
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// TestKeysRefusesClearKeySet checks that a key set an older broker stored in clear is neither
// used nor overwritten, and that the error says how to recover.
func TestKeysRefusesClearKeySet(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	der, err := x509.MarshalPKCS8PrivateKey(es.Signer)
	if err != nil {
		t.Fatal(err)
	}
	clearSet, err := json.Marshal(map[string]any{
		"format": 1, "generation": 1,
		"keys": []map[string]any{{"kid": es.KID, "alg": es.Alg, "created": es.Created, "activates": es.Activates, "pkcs8": der}},
	})
	if err != nil {
		t.Fatal(err)
	}
	setRaw(t, srv, prefix, clearSet)
	b := open(t, srv, prefix, suiteTimeout).Keys(newKEK(t))

	_, err = b.Load(ctx)
	if !errors.Is(err, redisstore.ErrKeySetInClear) || !strings.Contains(err.Error(), "in clear") ||
		!strings.Contains(err.Error(), "DEL "+prefix+"keyset") {
		t.Fatalf("Load of a key set in clear = %v, want ErrKeySetInClear saying to delete %skeyset", err, prefix)
	}
	checkNoSecret(t, "the error", []byte(err.Error()), es)

	next := keystest.NewKey(t, keys.ES256, keysEpoch)
	if err := b.Save(ctx, keys.Set{Generation: 2, Keys: []keys.Key{es, next}}); !errors.Is(err, redisstore.ErrKeySetInClear) {
		t.Fatalf("Save over a key set in clear = %v, want ErrKeySetInClear", err)
	}
	if got := getRaw(t, srv, prefix); !bytes.Equal(got, clearSet) {
		t.Error("Save replaced the key set in clear")
	}
}

// TestKeysSaveRefusesSetOfAnotherKey checks that a replica with another key encryption key
// cannot replace the key set.
func TestKeysSaveRefusesSetOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	if err := open(t, srv, prefix, suiteTimeout).Keys(newKEK(t)).Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es}}); err != nil {
		t.Fatal(err)
	}
	before := getRaw(t, srv, prefix)
	other := keystest.NewKey(t, keys.ES256, keysEpoch)
	err := open(t, srv, prefix, suiteTimeout).Keys(newKEK(t)).Save(ctx, keys.Set{Generation: 2, Keys: []keys.Key{other}})
	if !errors.Is(err, redisstore.ErrKeySetOtherKey) {
		t.Fatalf("Save under another key = %v, want ErrKeySetOtherKey", err)
	}
	if !bytes.Equal(getRaw(t, srv, prefix), before) {
		t.Error("Save under another key replaced the key set")
	}
}

// TestKeysFreshNonce checks that every save draws a new nonce.
func TestKeysFreshNonce(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	b := open(t, srv, prefix, suiteTimeout).Keys(newKEK(t))
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	seen := map[string]bool{}
	for gen := int64(1); gen <= 3; gen++ {
		if err := b.Save(ctx, keys.Set{Generation: gen, Keys: []keys.Key{es}}); err != nil {
			t.Fatal(err)
		}
		var s sealedForm
		if err := json.Unmarshal(getRaw(t, srv, prefix), &s); err != nil {
			t.Fatal(err)
		}
		if seen[string(s.Nonce)] {
			t.Fatalf("generation %d reuses a nonce", gen)
		}
		seen[string(s.Nonce)] = true
	}
}

func TestKeysWithoutKeyEncryptionKey(t *testing.T) {
	srv := redistest.Start(t)
	b := open(t, srv, uniquePrefix(), suiteTimeout).Keys(nil)
	if _, err := b.Load(context.Background()); !errors.Is(err, redisstore.ErrNoKeyEncryptionKey) {
		t.Errorf("Load = %v, want ErrNoKeyEncryptionKey", err)
	}
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	if err := b.Save(context.Background(), keys.Set{Generation: 1, Keys: []keys.Key{es}}); !errors.Is(err, redisstore.ErrNoKeyEncryptionKey) {
		t.Errorf("Save = %v, want ErrNoKeyEncryptionKey", err)
	}
}

// withPaddingBit returns the base64 text b64 of 32 bytes with a padding bit of its last data
// character set: it decodes to the same bytes only when decoding is not strict.
func withPaddingBit(t *testing.T, b64 string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := []byte(b64)
	last := len(b) - 2 // 32 bytes end in one '=': the character before it has 2 padding bits
	b[last] = alphabet[strings.IndexByte(alphabet, b[last])|1]
	if string(b) == b64 {
		t.Fatal("test set-up: the padding bit was already set")
	}
	return string(b)
}

// TestParseKeyEncryptionKey pins the one text form of a key encryption key: standard, padded,
// strict base64 of 32 bytes, surrounding space allowed; every other form is refused without
// quoting the key.
func TestParseKeyEncryptionKey(t *testing.T) {
	secret := bytes.Repeat([]byte{0xA5}, 32)
	good := base64.StdEncoding.EncodeToString(secret)
	want, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"base64 of 32 bytes", good, true},
		{"with a final newline", good + "\n", true},
		{"with surrounding spaces", "  " + good + " \r\n", true},
		{"empty", "", false},
		{"31 bytes", base64.StdEncoding.EncodeToString(secret[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(secret, 1)), false},
		{"hex", hex.EncodeToString(secret), false},
		{"raw bytes", string(secret), false},
		{"unpadded", base64.RawStdEncoding.EncodeToString(secret), false},
		{"url alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 32))), false},
		{"a padding bit set", withPaddingBit(t, good), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kek, err := redisstore.ParseKeyEncryptionKey([]byte(tt.text))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Parse = %v", err)
			case tt.ok && kek.ID() != want.ID():
				t.Fatalf("key id %s, want %s", kek.ID(), want.ID())
			case !tt.ok && !errors.Is(err, redisstore.ErrInvalidKeyEncryptionKey):
				t.Fatalf("Parse = %v, want ErrInvalidKeyEncryptionKey", err)
			case !tt.ok && tt.text != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.text)[:8]):
				t.Fatalf("error %q quotes the key", err)
			}
		})
	}
	if _, err := redisstore.NewKeyEncryptionKey(secret[:16]); !errors.Is(err, redisstore.ErrInvalidKeyEncryptionKey) {
		t.Errorf("NewKeyEncryptionKey of 16 bytes = %v, want ErrInvalidKeyEncryptionKey (AES-256 only)", err)
	}
}
