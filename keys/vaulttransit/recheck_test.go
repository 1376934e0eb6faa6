package vaulttransit_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// Modes of a flakyTransport.
const (
	// pass carries calls to Vault.
	pass int32 = iota
	// refuse fails every call at once (Vault down, connection refused).
	refuse
	// hang black-holes every call until its context ends (a network partition).
	hang
)

// flakyTransport carries calls to Vault as its mode says, and counts the calls it held.
type flakyTransport struct {
	mode atomic.Int32
	held atomic.Int64
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch f.mode.Load() {
	case refuse:
		return nil, errors.New("connection refused")
	case hang:
		f.held.Add(1)
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRecheckSharedWhileVaultHangs: when a key's settings are due to be read again and Vault
// does not answer, concurrent signatures share one read and its failure: each fails (503)
// within about Config.Timeout, not one timeout more per signature queued before it. A failed
// read is not remembered: the first signature once Vault answers again signs. A signature whose
// context has ended returns its context's error without waiting for Vault.
func TestRecheckSharedWhileVaultHangs(t *testing.T) {
	v, token := startVault(t)
	const timeout = 250 * time.Millisecond
	clock := fakeclock.New(time.Now())
	tr := &flakyTransport{}
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Timeout: timeout, Now: clock.Now, Transport: tr})
	k, err := b.Generate(context.Background(), keys.ES256, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sign := func() error {
		_, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		return err
	}
	if err := sign(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(vaulttransit.RecheckInterval)
	tr.mode.Store(refuse)
	if err := sign(); !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("Sign while Vault refuses: %v, want keys.ErrUnavailable", err)
	}
	tr.mode.Store(pass)
	if err := sign(); err != nil {
		t.Errorf("Sign once Vault answers again: %v", err)
	}

	clock.Advance(vaulttransit.RecheckInterval)
	tr.mode.Store(hang)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:]); !errors.Is(err, context.Canceled) {
		t.Errorf("SignJWS with an ended context while Vault hangs: %v, want context.Canceled", err)
	}

	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for range n {
		wg.Go(func() {
			start := time.Now()
			err := sign()
			d := time.Since(start)
			if !errors.Is(err, keys.ErrUnavailable) {
				t.Errorf("Sign while Vault hangs: %v, want keys.ErrUnavailable", err)
			}
			mu.Lock()
			slowest = max(slowest, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	if slowest > 3*timeout {
		t.Errorf("with Vault hanging, the slowest of %d concurrent signatures failed after %s (%d calls held), Config.Timeout is %s",
			n, slowest.Round(10*time.Millisecond), tr.held.Load(), timeout)
	}
}
