package keys_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestRetiredKeyStopsSigningWithoutTheStore: with the key store unreachable for a minute and a
// half around the instant the successor takes over, the retired key stops signing on time, and
// leaves the JWKS only after the last token it signed expired.
func TestRetiredKeyStopsSigningWithoutTheStore(t *testing.T) {
	p := keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256}
	ttl := p.Retain
	interval := keys.RefreshInterval(p.Prepublish)
	clk := fakeclock.New(t0)
	var down atomic.Bool
	fb := downableMemory(&down)
	m := newManager(t, keys.Config{Backend: fb, Policy: p, Now: clk.Now, TokenTTL: ttl})
	var lastOld time.Time
	var oldKID string
	var gone time.Time
	for d := time.Duration(0); d <= 2*p.Period; d += interval {
		now := t0.Add(d)
		clk.Set(now)
		// Outage from 30s before the first rotation's takeover (t0+Period) to 60s after.
		down.Store(d > p.Period-30*time.Second && d < p.Period+60*time.Second)
		_, _ = m.Refresh(context.Background())
		s := m.Snapshot()
		if oldKID == "" {
			oldKID = s.Signing.KID
		}
		if s.Signing.KID == oldKID {
			lastOld = now
		}
		if gone.IsZero() && !slices.ContainsFunc(s.Published, func(k keys.Key) bool { return k.KID == oldKID }) {
			gone = now
		}
	}
	if gone.IsZero() {
		t.Fatal("the first key was never dropped")
	}
	exp := lastOld.Truncate(time.Second).Add(ttl)
	t.Logf("first key %s retires at +%v; last signed at +%v (token valid until +%v); left the JWKS at +%v",
		oldKID, p.Period, lastOld.Sub(t0), exp.Sub(t0), gone.Sub(t0))
	if lastOld.After(t0.Add(p.Period)) {
		t.Errorf("the retired key signed at +%v, past its Retires +%v (the store was unreachable, the old snapshot stayed in force)", lastOld.Sub(t0), p.Period)
	}
	if gone.Before(exp) {
		t.Errorf("the retired key left the JWKS at +%v while a token it signed is valid until +%v", gone.Sub(t0), exp.Sub(t0))
	}
}

// downableMemory is a memory key store that answers every call with an error while down is set,
// as a store that cannot be reached.
func downableMemory(down *atomic.Bool) *fakeBackend {
	mem := keys.NewMemory()
	return &fakeBackend{
		load: func(ctx context.Context) (keys.Set, error) {
			if down.Load() {
				return keys.Set{}, errors.New("store unreachable")
			}
			return mem.Load(ctx)
		},
		save: func(ctx context.Context, s keys.Set) error {
			if down.Load() {
				return errors.New("store unreachable")
			}
			return mem.Save(ctx, s)
		},
	}
}
