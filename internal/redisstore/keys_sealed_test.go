package redisstore_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// handSealedKey is one key of a hand-made sealed plaintext.
type handSealedKey struct {
	keys.Meta
	PKCS8 []byte `json:"pkcs8"`
}

// handSealedPlain is the plaintext sealed inside a stored key set.
type handSealedPlain struct {
	Format     int               `json:"format"`
	Generation int64             `json:"generation"`
	Keys       []handSealedKey   `json:"keys"`
	Revoked    []keys.Revocation `json:"revoked,omitempty"`
}

// handSeal returns the stored value of plain sealed under secret for the key set of prefix at
// generation gen, exactly as a broker holding the key encryption key would write it.
func handSeal(t *testing.T, secret []byte, kekID, prefix string, gen int64, plain handSealedPlain) []byte {
	t.Helper()
	pt, err := json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	aad := []byte("broker keyset format 2\x00" + prefix + "keyset\x00" + strconv.FormatInt(gen, 10))
	out, err := json.Marshal(sealedForm{Format: 2, Generation: gen, KeyID: kekID, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, pt, aad)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pkcs8Of is the PKCS #8 DER of k's private key.
func pkcs8Of(t *testing.T, k keys.Key) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestKeysRefuseAuthenticSetFailingChecks pins that a key set which decrypts and authenticates
// under the key encryption key is still refused (ErrKeySetCorrupted, no key material quoted) when
// its content is not a valid key set: a private key swapped in under another key's KID, a key both
// in force and revoked, a duplicate KID, an inner format other than 2, an inner generation other
// than the sealed one, or a private key that does not parse.
// Guards against: internal/redisstore/keys.go:291 KID/thumbprint comparison dropped in parseSigner
// Guards against: internal/redisstore/keys.go:263 set.Validate() dropped in decodeKeySet
// Guards against: internal/redisstore/keys.go:252 inner format check dropped in decodeKeySet
// Guards against: internal/redisstore/keys.go:227 inner/sealed generation comparison dropped in
// unseal
// Guards against: internal/redisstore/keys.go:274 parse error of the private key quoting its bytes
// (%x of k.PKCS8)
func TestKeysRefuseAuthenticSetFailingChecks(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	secret := make([]byte, redisstore.KeyEncryptionKeySize)
	_, _ = rand.Read(secret)
	kek, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	other := keystest.NewKey(t, keys.ES256, keysEpoch)
	good := handSealedKey{Meta: es.Meta, PKCS8: pkcs8Of(t, es)}
	tests := []struct {
		name  string
		gen   int64
		plain handSealedPlain
	}{
		{"private key swapped under another kid", 1, handSealedPlain{Format: 2, Generation: 1,
			Keys: []handSealedKey{{Meta: es.Meta, PKCS8: pkcs8Of(t, other)}}}},
		{"key in force and revoked", 1, handSealedPlain{Format: 2, Generation: 1,
			Keys: []handSealedKey{good}, Revoked: []keys.Revocation{{KID: es.KID, At: keysEpoch.Add(time.Minute)}}}},
		{"duplicate kid", 1, handSealedPlain{Format: 2, Generation: 1, Keys: []handSealedKey{good, good}}},
		{"inner format 1", 1, handSealedPlain{Format: 1, Generation: 1, Keys: []handSealedKey{good}}},
		{"inner generation differs from the sealed one", 1, handSealedPlain{Format: 2, Generation: 5, Keys: []handSealedKey{good}}},
		{"private key that does not parse", 1, handSealedPlain{Format: 2, Generation: 1,
			Keys: []handSealedKey{{Meta: es.Meta, PKCS8: pkcs8Of(t, es)[:len(pkcs8Of(t, es))-10]}}}},
	}
	// The valid plaintext loads: the cases below fail for their one defect only.
	okPrefix := uniquePrefix()
	setRaw(t, srv, okPrefix, handSeal(t, secret, kek.ID(), okPrefix, 1, handSealedPlain{Format: 2, Generation: 1, Keys: []handSealedKey{good}}))
	if set, err := open(t, srv, okPrefix, suiteTimeout).Keys(kek).Load(ctx); err != nil || len(set.Keys) != 1 || set.Keys[0].KID != es.KID {
		t.Fatalf("Load of a valid hand-sealed set = %v, %v", set.Metas(), err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := uniquePrefix()
			setRaw(t, srv, prefix, handSeal(t, secret, kek.ID(), prefix, tt.gen, tt.plain))
			set, err := open(t, srv, prefix, suiteTimeout).Keys(kek).Load(ctx)
			if !errors.Is(err, redisstore.ErrKeySetCorrupted) {
				t.Fatalf("Load = generation %d, %d keys, %v; want ErrKeySetCorrupted", set.Generation, len(set.Keys), err)
			}
			checkNoSecret(t, "the error", []byte(err.Error()), es, other)
		})
	}
}

// TestKeysSaveOverMalformedSetRefused pins that Save over a stored value that is not a key set (not
// JSON, or a format that is not a positive number) is refused as ErrKeySetCorrupted, not reported
// as a lost compare-and-swap (ErrConflict, which a Manager retries) nor as an outage, and leaves
// the stored value alone.
// Guards against: internal/redisstore/keys.go:60 `or set.format < 1` dropped from saveKeySetScript
func TestKeysSaveOverMalformedSetRefused(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	for _, raw := range []string{`{"format":0,"generation":1}`, `{"format":-2,"generation":1}`, `{garbage`, `[]`} {
		prefix := uniquePrefix()
		setRaw(t, srv, prefix, []byte(raw))
		es := keystest.NewKey(t, keys.ES256, keysEpoch)
		err := open(t, srv, prefix, suiteTimeout).Keys(newKEK(t)).Save(ctx, keys.Set{Generation: 2, Keys: []keys.Key{es}})
		if !errors.Is(err, redisstore.ErrKeySetCorrupted) || errors.Is(err, keys.ErrConflict) {
			t.Errorf("Save over %s = %v, want ErrKeySetCorrupted", raw, err)
		}
		if got := getRaw(t, srv, prefix); !bytes.Equal(got, []byte(raw)) {
			t.Errorf("Save over %s replaced it with %s", raw, got)
		}
	}
}

// TestKeyEncryptionKeyIDStableAndOpaque pins the key encryption key's ID: the documented derivation
// (hex of the first 8 bytes of SHA-256 of the fixed label and the key), so that key sets written by
// earlier brokers keep loading after an upgrade, and an ID that holds no bytes of the key (it is
// stored in Redis in clear and quoted in errors).
// Guards against: internal/redisstore/keys_kek.go:52 ID made of the key's first bytes (hex of
// secret[:8])
// Guards against: internal/redisstore/keys_kek.go:50 label dropped from the ID hash (IDs change
// across versions)
func TestKeyEncryptionKeyIDStableAndOpaque(t *testing.T) {
	secret := bytes.Repeat([]byte{0xA5}, redisstore.KeyEncryptionKeySize)
	kek, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kek.ID(), "1862e1b6a8204fb3"; got != want {
		t.Errorf("ID of the key 0xA5*32 = %s, want %s (as every earlier broker computed it)", got, want)
	}
	random := make([]byte, redisstore.KeyEncryptionKeySize)
	_, _ = rand.Read(random)
	k2, err := redisstore.NewKeyEncryptionKey(random)
	if err != nil {
		t.Fatal(err)
	}
	id := k2.ID()
	for _, form := range []string{hex.EncodeToString(random), base64.StdEncoding.EncodeToString(random), string(random)} {
		if strings.Contains(form, id) || strings.Contains(id, form[:8]) {
			t.Errorf("ID %s reveals bytes of the key", id)
		}
	}
}
