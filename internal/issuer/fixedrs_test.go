package issuer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"
)

// fixedRSOracle is the reference: encoding/asn1 into big integers.
func fixedRSOracle(der []byte, size int) ([]byte, bool) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, false
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*size || sig.S.BitLen() > 8*size {
		return nil, false
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, true
}

func TestFixedRSMatchesASN1(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		der, err := ecdsa.SignASN1(rand.Reader, key, []byte{byte(i), byte(i >> 8)})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fixedRSOracle(der, 32)
		got, err := fixedRS(der, 32)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%x: got %x (%v), want %x", der, got, err, want)
		}
	}
	// Small integers (short encodings) and long-form lengths.
	for _, sig := range []struct{ r, s *big.Int }{{big.NewInt(1), big.NewInt(255)}, {big.NewInt(128), new(big.Int).Lsh(big.NewInt(1), 255)}} {
		der, err := asn1.Marshal(struct{ R, S *big.Int }{sig.r, sig.s})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fixedRSOracle(der, 32)
		if got, err := fixedRS(der, 32); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%x: got %x (%v), want %x", der, got, err, want)
		}
	}
	big66 := new(big.Int).Lsh(big.NewInt(1), 520)
	longForm, _ := asn1.Marshal(struct{ R, S *big.Int }{big66, big66})
	if got, err := fixedRS(longForm, 66); err != nil || got[0] != 1 || got[66] != 1 {
		t.Errorf("long-form DER: got %x (%v)", got, err)
	}
}

func TestFixedRSRefusesMalformed(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := ecdsa.SignASN1(rand.Reader, key, []byte("x"))
	tooBig, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)})
	negative, _ := asn1.Marshal(struct{ R, S *big.Int }{big.NewInt(-5), big.NewInt(1)})
	for name, der := range map[string][]byte{
		"empty": {}, "truncated": good[:len(good)-1], "trailing": append(append([]byte{}, good...), 0),
		"not a sequence": append([]byte{0x31}, good[1:]...), "one integer": {0x30, 0x03, 0x02, 0x01, 0x01},
		"too big": tooBig, "negative": negative, "empty integer": {0x30, 0x04, 0x02, 0x00, 0x02, 0x00},
	} {
		if _, err := fixedRS(der, 32); err == nil {
			t.Errorf("%s: %x accepted", name, der)
		}
		if _, ok := fixedRSOracle(der, 32); ok {
			t.Errorf("%s: the oracle accepts %x; the case is not malformed", name, der)
		}
	}
}
