package vaulttransit_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestSignRefusesNilOpts: Sign without signer options fails (no hash is named, so the
// digest is not known to be SHA-256) instead of panicking.
// Guards against: signer.go:`opts == nil ||` dropped from Sign
func TestSignRefusesNilOpts(t *testing.T) {
	k := newClockedKey(t)
	var sig []byte
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("panic")
				t.Errorf("Sign with nil opts panicked: %v", r)
			}
		}()
		sig, err = k.signer.(crypto.Signer).Sign(rand.Reader, k.digest, nil)
	}()
	if err == nil || len(sig) != 0 {
		t.Fatalf("Sign with nil opts = %d bytes, %v; want an error", len(sig), err)
	}
}

// TestReplacedKeyRefusedForASN1: a Transit key deleted and created again under its name
// never yields an ASN.1 signature (crypto.Signer.Sign) that the published key does not verify:
// the signature is refused with keys.ErrUnavailable.
// Guards against: signer.go:ecdsa.VerifyASN1 check replaced by true in verifies
func TestReplacedKeyRefusedForASN1(t *testing.T) {
	k := newClockedKey(t)
	if _, err := k.signer.(crypto.Signer).Sign(rand.Reader, k.digest, crypto.SHA256); err != nil {
		t.Fatalf("Sign before the replacement: %v", err)
	}
	root := k.vault.Client()
	path := mount + "/keys/" + k.name
	allow := map[string]any{"deletion_allowed": true}
	if _, err := root.Logical().Write(path+"/config", allow); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Delete(path); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write(path, map[string]any{"type": "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	sig, err := k.signer.(crypto.Signer).Sign(rand.Reader, k.digest, crypto.SHA256)
	if !errors.Is(err, keys.ErrUnavailable) || len(sig) != 0 {
		t.Fatalf("Sign with the replaced Transit key = %d bytes, %v; want keys.ErrUnavailable",
			len(sig), err)
	}
}

// heldKeyReads holds every read of a Transit key (GET <mount>/keys/...) until its context
// ends once armed, counting those reads and signalling seen at the first; it carries every
// other call to Vault.
type heldKeyReads struct {
	armed atomic.Bool
	reads atomic.Int32
	seen  chan struct{}
}

func (p *heldKeyReads) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.armed.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/keys/") {
		if p.reads.Add(1) == 1 {
			close(p.seen)
		}
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRecheckReadIsShared: while a read of a key's settings is in progress, another
// signature due the same recheck waits for that read and takes its answer instead of asking
// Vault again: one read of a key's settings at a time.
// Guards against: exportable.go:joining the flight in progress dropped from recheck
func TestRecheckReadIsShared(t *testing.T) {
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	tr := &heldKeyReads{seen: make(chan struct{})}
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Timeout: 2 * time.Second,
		Now: clock.Now, Transport: tr})
	k, err := b.Generate(context.Background(), keys.ES256, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	signer := k.Signer.(keys.ContextSigner)
	digest := sha256.Sum256([]byte("header.payload"))
	clock.Advance(vaulttransit.RecheckInterval)
	tr.armed.Store(true)
	first := make(chan error, 1)
	go func() {
		_, err := signer.SignJWS(context.Background(), digest[:])
		first <- err
	}()
	<-tr.seen
	_, err = signer.SignJWS(context.Background(), digest[:])
	if !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("the second signature while the read hangs = %v, want keys.ErrUnavailable", err)
	}
	if err := <-first; !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("the first signature while the read hangs = %v, want keys.ErrUnavailable", err)
	}
	if n := tr.reads.Load(); n != 1 {
		t.Fatalf("two signatures due the same recheck read the key's settings %d times, want 1", n)
	}
}

// TestSettingsTrustedWithinRecheckInterval: a Transit key's settings, read less than
// RecheckInterval ago, are not read again for a signature: while reads of the key fail, a
// signature within the interval still signs.
// Guards against: exportable.go:known() never reporting the settings fresh
func TestSettingsTrustedWithinRecheckInterval(t *testing.T) {
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	tr := &blockedKeyReads{}
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Now: clock.Now,
		Transport: tr})
	k, err := b.Generate(context.Background(), keys.ES256, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	clock.Advance(vaulttransit.RecheckInterval - time.Nanosecond)
	tr.block.Store(true)
	if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("Sign within RecheckInterval of the last read, key reads failing: %v", err)
	}
}

// TestJWSSignatureInStandardBase64: an ES256 JWS signature Vault encodes in standard
// base64 instead of base64url is still decoded and returned.
// Guards against: signer.go:standard-base64 fallback dropped for JWS signatures in decode
func TestJWSSignatureInStandardBase64(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Transport: sigEdit{encoding: base64.StdEncoding}})
	k, err := b.Generate(ctx, keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := k.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("SignJWS with a standard-base64 answer = %d bytes, %v; want 64 bytes",
			len(sig), err)
	}
}
