package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestReplacedTransitKeyNeverSigns: a Transit key deleted and created again under its name
// (version 1 again, another private key) while a backend has its public key cached never
// yields a signature that the published key does not verify: the signer checks each of
// Vault's signatures, refuses with keys.ErrUnavailable, and the next load finds the kid no
// longer matches.
func TestReplacedTransitKeyNeverSigns(t *testing.T) {
	v, token := startVault(t)
	root := v.Client()
	for _, alg := range []string{keys.ES256, keys.RS256} {
		t.Run(alg, func(t *testing.T) {
			name := uniqueKey()
			b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: alg})
			ctx := context.Background()
			k := saveFirstKey(t, b, alg)
			set, err := b.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			signer, _ := set.Find(k.KID)
			digest := sha256.Sum256([]byte("header.payload"))
			cs := signer.Signer.(keys.ContextSigner)
			if _, err := cs.SignJWS(ctx, digest[:]); err != nil {
				t.Fatalf("SignJWS before the replacement: %v", err)
			}

			typ := map[string]string{keys.ES256: "ecdsa-p256", keys.RS256: "rsa-2048"}[alg]
			for _, step := range []func() error{
				func() error {
					_, err := root.Logical().Write(mount+"/keys/"+name+"/config", map[string]any{"deletion_allowed": true})
					return err
				},
				func() error { _, err := root.Logical().Delete(mount + "/keys/" + name); return err },
				func() error {
					_, err := root.Logical().Write(mount+"/keys/"+name, map[string]any{"type": typ})
					return err
				},
			} {
				if err := step(); err != nil {
					t.Fatal(err)
				}
			}
			if sig, err := cs.SignJWS(ctx, digest[:]); !errors.Is(err, keys.ErrUnavailable) {
				t.Fatalf("SignJWS with the replaced Transit key = %d bytes, %v; want keys.ErrUnavailable", len(sig), err)
			}
			if _, err := b.Load(ctx); !errors.Is(err, keys.ErrInvalidSet) {
				t.Errorf("Load after the refused signature = %v, want keys.ErrInvalidSet (the kid no longer matches)", err)
			}
		})
	}
}
