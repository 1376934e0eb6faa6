package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestKeysSaveOverSetWithoutNumericGeneration: Save over a stored value of this format and
// key encryption key whose generation is missing or not a number is refused as
// ErrKeySetCorrupted (it is no key set), not reported as a lost compare-and-swap (ErrConflict,
// which a Manager reloads and retries forever), and the stored value is left alone.
// Guards against: keys.go:type(set.generation) check dropped from saveKeySetScript
func TestKeysSaveOverSetWithoutNumericGeneration(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	kek := newKEK(t)
	for _, gen := range []string{``, `"generation":"1",`, `"generation":null,`} {
		prefix := uniquePrefix()
		raw := []byte(`{"format":2,` + gen + `"kek_id":"` + kek.ID() + `"}`)
		setRaw(t, srv, prefix, raw)
		es := keystest.NewKey(t, keys.ES256, keysEpoch)
		for _, next := range []int64{1, 2} {
			set := keys.Set{Generation: next, Keys: []keys.Key{es}}
			err := open(t, srv, prefix, suiteTimeout).Keys(kek).Save(ctx, set)
			if !errors.Is(err, redisstore.ErrKeySetCorrupted) || errors.Is(err, keys.ErrConflict) {
				t.Errorf("Save of generation %d over %s = %v, want ErrKeySetCorrupted",
					next, raw, err)
			}
		}
		if got := getRaw(t, srv, prefix); !bytes.Equal(got, raw) {
			t.Errorf("Save over %s replaced it with %s", raw, got)
		}
	}
}

// TestKeysRefuseSealedKeyOnOtherCurve: an authentic sealed key set whose ES256 key is an
// ECDSA key on a curve other than P-256 is refused as ErrKeySetCorrupted, the error saying the
// key does not suit its algorithm (keys.ErrUnsupportedAlg).
// Guards against: keys.go:P-256 curve check dropped from parseSigner
func TestKeysRefuseSealedKeyOnOtherCurve(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	secret := make([]byte, redisstore.KeyEncryptionKeySize)
	_, _ = rand.Read(secret)
	kek, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	plain := handSealedPlain{Format: 2, Generation: 1,
		Keys: []handSealedKey{{Meta: es.Meta, PKCS8: der}}}
	prefix := uniquePrefix()
	setRaw(t, srv, prefix, handSeal(t, secret, kek.ID(), prefix, 1, plain))
	_, err = open(t, srv, prefix, suiteTimeout).Keys(kek).Load(ctx)
	if !errors.Is(err, redisstore.ErrKeySetCorrupted) || !errors.Is(err, keys.ErrUnsupportedAlg) {
		t.Errorf("Load of a P-384 key sealed as ES256 = %v, want ErrKeySetCorrupted and "+
			"ErrUnsupportedAlg", err)
	}
}
