package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestRefusalSeenIsHonouredAtOnce pins that once the backend has read a Transit key's
// settings as exportable (here through Ping), a signer of that key refuses at once
// (ErrExportable), without waiting for its own recheck RecheckInterval later.
// Guards against: usable returning nil instead of the fresh refusal in exportable.go:usable
func TestRefusalSeenIsHonouredAtOnce(t *testing.T) {
	ctx := context.Background()
	k := newClockedKey(t)
	if _, err := k.signer.SignJWS(ctx, k.digest); err != nil {
		t.Fatal(err)
	}
	makeExportable(t, k.vault, k.name)
	if err := k.b.Ping(ctx); !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("Ping of the exportable Transit key = %v, want ErrExportable", err)
	}
	if sig, err := k.signer.SignJWS(ctx, k.digest); !errors.Is(err, vaulttransit.ErrExportable) || len(sig) != 0 {
		t.Fatalf("SignJWS right after the backend read the key as exportable = %d bytes, %v; want ErrExportable", len(sig), err)
	}
}

// slowKeyReads delays every read of a Transit key (GET <mount>/keys/...) by delay once
// armed, signalling seen at the first one, and carries every call to Vault.
type slowKeyReads struct {
	delay time.Duration
	armed chan struct{} // closed to start delaying
	seen  chan struct{} // closed at the first delayed read
	once  sync.Once
}

func (p *slowKeyReads) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-p.armed:
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/"+mount+"/keys/") {
			p.once.Do(func() { close(p.seen) })
			time.Sleep(p.delay)
		}
	default:
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRecheckOutlivesFirstCaller pins that the shared read of a key's settings, started by a
// signature whose caller then gives up, is not cut off by that caller: another signature waiting
// on the same read signs.
// Guards against: context.WithoutCancel(ctx) replaced by ctx in exportable.go:recheck
func TestRecheckOutlivesFirstCaller(t *testing.T) {
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	tr := &slowKeyReads{delay: 300 * time.Millisecond, armed: make(chan struct{}), seen: make(chan struct{})}
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Timeout: 2 * time.Second, Now: clock.Now, Transport: tr})
	k, err := b.Generate(context.Background(), keys.ES256, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	signer := k.Signer.(keys.ContextSigner)
	digest := sha256.Sum256([]byte("header.payload"))
	clock.Advance(vaulttransit.RecheckInterval)
	close(tr.armed)
	first, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := signer.SignJWS(first, digest[:])
		firstDone <- err
	}()
	<-tr.seen
	secondDone := make(chan error, 1)
	go func() {
		_, err := signer.SignJWS(context.Background(), digest[:])
		secondDone <- err
	}()
	time.Sleep(50 * time.Millisecond) // the second signature joins the read in progress
	cancel()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("the first signature, whose caller gave up = %v, want context.Canceled", err)
	}
	if err := <-secondDone; err != nil {
		t.Fatalf("the second signature, sharing the read its first caller gave up on = %v, want a signature", err)
	}
}

// TestExportableStopsSigningWithin30s pins the recheck bound itself: a Transit key made
// exportable while broker runs stops signing once 30 seconds have passed since its settings
// were last read, not later.
// Guards against: RecheckInterval raised (30s to 30m) in exportable.go
func TestExportableStopsSigningWithin30s(t *testing.T) {
	ctx := context.Background()
	k := newClockedKey(t)
	makeExportable(t, k.vault, k.name)
	k.clock.Advance(30 * time.Second)
	if sig, err := k.signer.SignJWS(ctx, k.digest); !errors.Is(err, vaulttransit.ErrExportable) || len(sig) != 0 {
		t.Fatalf("SignJWS 30s after the settings were read, the key exportable since = %d bytes, %v; want ErrExportable", len(sig), err)
	}
}
