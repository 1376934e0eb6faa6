package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestKeyDatedAheadDropRecordedAsNoRevocation: a replica whose clock ran a year ahead saved a
// successor dated then; a replica with the right clock dropped it. The first replica, its clock
// corrected, records the change it loads as keys.load naming the key dropped as saved on a clock
// running ahead, not as keys.revoke, and the replica that dropped it does not call it expired.
func TestKeyDatedAheadDropRecordedAsNoRevocation(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	year := start.Add(365 * 24 * time.Hour)
	policy := keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	quiet := slog.New(slog.DiscardHandler)
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: func() time.Time { return start }}
	backend := keys.NewMemory()
	rightClk, aheadClk := fakeclock.New(start), fakeclock.New(start)
	right, err := keys.NewManager(keys.Config{Backend: backend, Policy: policy, Now: rightClk.Now, OnChange: rec.recordKeys, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ahead, err := keys.NewManager(keys.Config{Backend: backend, Policy: policy, Now: aheadClk.Now, OnLoad: rec.recordLoadedKeys, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(m *keys.Manager) {
		t.Helper()
		if _, err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	refresh(right)
	refresh(ahead)
	aheadClk.Set(year)
	refresh(ahead)
	set, err := backend.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dated string
	for _, k := range set.Keys {
		if k.Created.Equal(year) {
			dated = k.KID
		}
	}
	if dated == "" {
		t.Fatal("the replica a year ahead saved no key")
	}
	rightClk.Set(start.Add(time.Hour))
	refresh(right)
	aheadClk.Set(start.Add(time.Hour))
	refresh(ahead)

	events, _, err := store.List(ctx, config.RootSpace, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var dropped, loaded int
	for _, e := range events {
		if !strings.Contains(e.Detail, dated) {
			continue
		}
		switch {
		case e.Action == "keys.revoke" || strings.Contains(e.Detail, "revoked ("):
			t.Errorf("the drop of %s, dated a year ahead, is recorded as a revocation: %s %q", dated, e.Action, e.Detail)
		case strings.Contains(e.Detail, "expired keys removed: "+dated):
			t.Errorf("the drop of %s, dated a year ahead, is recorded as an expiry: %s %q", dated, e.Action, e.Detail)
		case !strings.Contains(e.Detail, "clock running ahead dropped"):
		case e.Action == "keys.rotate":
			dropped++
		case e.Action == "keys.load":
			loaded++
		}
	}
	if dropped != 1 || loaded != 1 {
		t.Errorf("events naming %s as dropped for a clock ahead: %d keys.rotate, %d keys.load, want one each; trail: %+v",
			dated, dropped, loaded, events)
	}
}
