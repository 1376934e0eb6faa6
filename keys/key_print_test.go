package keys_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestKeyPrintsNoPrivateHalf pins that a Key, and a Set or Snapshot holding one, printed with
// any fmt verb or logged through slog's text and JSON handlers (which encode a struct as JSON),
// shows the key's id and never a number of its private half.
func TestKeyPrintsNoPrivateHalf(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, alg := range []string{keys.ES256, keys.RS256} {
		k, err := keys.Generate(alg, now)
		if err != nil {
			t.Fatal(err)
		}
		var private *big.Int
		switch p := k.Signer.(type) {
		case *ecdsa.PrivateKey:
			b, err := p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			private = new(big.Int).SetBytes(b)
		case *rsa.PrivateKey:
			private = p.Primes[0]
		default:
			t.Fatalf("%s: signer %T", alg, k.Signer)
		}
		secrets := []string{private.String(), private.Text(16)}
		set := keys.Set{Generation: 1, Keys: []keys.Key{k}}
		snap := keys.Snapshot{Signing: k, Signers: []keys.Key{k}, Published: []keys.Key{k}}
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			outs = append(outs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, set), fmt.Sprintf(verb, snap), fmt.Sprintf(verb, &snap))
		}
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("t", "key", k, "set", set, "snapshot", snap)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("t", "key", k, "set", set, "snapshot", snap)
		outs = append(outs, logs.String())
		for i, out := range outs {
			if !strings.Contains(out, k.KID) {
				t.Errorf("%s output %d does not name the key id: %s", alg, i, out)
			}
			for _, secret := range secrets {
				if strings.Contains(out, secret) {
					t.Errorf("%s output %d holds the private key: %.200s", alg, i, out)
				}
			}
		}
	}
}
