package vaulttransit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestCallerContextEndIsNotVaultOutage pins that a signature whose caller's context has
// already ended fails with the caller's context error (context.Canceled or
// context.DeadlineExceeded), never with keys.ErrUnavailable: a caller that gave up is not Vault
// being down.
// Guards against: the ctx.Err() case dropped from client.go:callWithin
func TestCallerContextEndIsNotVaultOutage(t *testing.T) {
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256})
	k, err := b.Generate(context.Background(), keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	signer := k.Signer.(keys.ContextSigner)
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want error
	}{{"deadline passed", expired, context.DeadlineExceeded}, {"canceled", canceled, context.Canceled}} {
		sig, err := signer.SignJWS(tt.ctx, digest[:])
		if !errors.Is(err, tt.want) || errors.Is(err, keys.ErrUnavailable) || len(sig) != 0 {
			t.Errorf("SignJWS with the caller's context %s = %d bytes, %v; want %v and not keys.ErrUnavailable", tt.name, len(sig), err, tt.want)
		}
	}
}

// TestLoadedKeyOfOtherChainSigns pins that a key of the second algorithm chain (ES256 next to a
// configured RS256), loaded from the stored set by another replica, signs with its own algorithm: a
// 64-byte JWS signature that verifies with its public key.
// Guards against: signer of a loaded key given b.cfg.Alg instead of the record's Alg in
// backend.go:key
func TestLoadedKeyOfOtherChainSigns(t *testing.T) {
	ctx := context.Background()
	c := newOtherChain(t)
	b := newBackend(t, c.vault, c.token, vaulttransit.Config{Key: c.name, Alg: keys.RS256, Meta: c.meta})
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := set.Find(c.key.KID)
	if !ok {
		t.Fatalf("loaded set lacks the ES256 key %s", c.key.KID)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := k.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:])
	if err != nil {
		t.Fatalf("SignJWS with the loaded ES256 key: %v", err)
	}
	pub := k.Public().(*ecdsa.PublicKey)
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatalf("the loaded ES256 key's JWS signature (%d bytes) does not verify", len(sig))
	}
}

// signAnswers answers every sign call with answer (or, when answer is nil, holds it until
// its context ends, as an unreachable Vault does), counts the sign calls, and carries every other
// call to Vault.
type signAnswers struct {
	answer *canned
	signs  atomic.Int32
}

func (p *signAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.Contains(r.URL.Path, "/"+mount+"/sign/") {
		return http.DefaultTransport.RoundTrip(r)
	}
	p.signs.Add(1)
	if p.answer == nil {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return cannedResponse(r, *p.answer), nil
}

// TestVaultRefusalsAreUnavailable pins what Vault's error answers to a signature become: every one
// (sealed, overloaded, internal error, permission denied) fails with keys.ErrUnavailable after
// exactly one request (no retry by the Vault client: the caller retries, within its own bound).
// Guards against: keys.ErrUnavailable no longer wrapped for a Vault error answer in
// client.go:callWithin
// Guards against: vcfg.MaxRetries = 0 dropped in client.go:newClient
func TestVaultRefusalsAreUnavailable(t *testing.T) {
	v, token := startVault(t)
	for _, c := range []canned{
		{status: http.StatusServiceUnavailable, header: contentType("application/json"), body: `{"errors":["Vault is sealed"]}`},
		{status: http.StatusTooManyRequests, header: contentType("application/json"), body: `{"errors":["request path rate limited"]}`},
		{status: http.StatusInternalServerError, header: contentType("application/json"), body: `{"errors":["internal error"]}`},
		{status: http.StatusForbidden, header: contentType("application/json"), body: `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			tr := &signAnswers{answer: &c}
			b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Transport: tr})
			k, err := b.Generate(context.Background(), keys.ES256, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("header.payload"))
			sig, err := k.Signer.(keys.ContextSigner).SignJWS(context.Background(), digest[:])
			if !errors.Is(err, keys.ErrUnavailable) || len(sig) != 0 {
				t.Errorf("SignJWS with Vault answering %d = %d bytes, %v; want keys.ErrUnavailable", c.status, len(sig), err)
			}
			if n := tr.signs.Load(); n != 1 {
				t.Errorf("%d sign requests for one signature Vault refused with %d, want 1 (no retries)", n, c.status)
			}
		})
	}
}

// TestSilentVaultIsUnavailable pins that a signature Vault does not answer fails with
// keys.ErrUnavailable once Config.Timeout has passed (the caller's context still live).
// Guards against: keys.ErrUnavailable no longer wrapped for a timed-out call in
// client.go:callWithin
func TestSilentVaultIsUnavailable(t *testing.T) {
	v, token := startVault(t)
	tr := &signAnswers{}
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Timeout: 200 * time.Millisecond, Transport: tr})
	k, err := b.Generate(context.Background(), keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	start := time.Now()
	sig, err := k.Signer.(keys.ContextSigner).SignJWS(context.Background(), digest[:])
	if !errors.Is(err, keys.ErrUnavailable) || len(sig) != 0 {
		t.Fatalf("SignJWS with Vault silent = %d bytes, %v; want keys.ErrUnavailable", len(sig), err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("SignJWS with Vault silent took %s, want about the 200ms timeout", took)
	}
}

// TestLoadFailsWhenCurrentKeyVersionGone pins that Load refuses a key that never retires
// (the chain's current key, Retires zero) whose Transit version Vault no longer gives
// (min_decryption_version raised past it), instead of dropping it from the set as it does a key
// already retired: only a retired key may leave the set so.
// Guards against: !r.Retires.IsZero() dropped from the errNoVersion case in backend.go:Load
func TestLoadFailsWhenCurrentKeyVersionGone(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	name := uniqueKey()
	meta := vaulttransit.NewMemoryMeta()
	a := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	k1, err := a.Generate(ctx, keys.ES256, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Client().Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Client().Logical().Write(mount+"/keys/"+name+"/config",
		map[string]any{"min_decryption_version": 2, "min_encryption_version": 2}); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	if set, err := b.Load(ctx); err == nil {
		t.Fatalf("Load = %v, nil; want an error: the current key %s's Transit version is gone", set.Metas(), k1.KID)
	}
}
