package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestStartRecordsASecondLeave: a file stack moved by a reload (its tombstone and the file-as-seen record are written at the
// same instant) and moved again while no replica runs: the start must record the second move.
func TestStartRecordsASecondLeave(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	with := func(space string) catalog.Objects {
		o := file()
		o.Stacks = append(o.Stacks, config.Stack{ID: "api", Space: space})
		return o
	}
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "api"}
	for _, viaReload := range []bool{false, true} {
		store := catalog.NewMemory()
		now := t0
		clock := func() time.Time { return now }
		m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod-eu"), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		now = t0.Add(time.Hour)
		if viaReload {
			if _, err := m.Reload(ctx, with("prod")); err != nil {
				t.Fatal(err)
			}
		} else if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod"), Now: clock}); err != nil {
			t.Fatal(err)
		}
		// Runs of api start in prod for an hour; then every replica stops, the file moves api
		// back to prod-eu, and a replica starts.
		now = t0.Add(2 * time.Hour)
		m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod-eu"), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		meta, _ := m2.Live().Load().Meta(ref)
		if want := now.Add(catalog.SettleTime); !meta.Created.Equal(want) {
			t.Errorf("reload=%v: api counts as placed at %v, want %v: the second move was not recorded (runs started in prod go on in prod-eu)", viaReload, meta.Created, want)
		}
	}
}

// TestStartRecordsASecondSecretReplacement: a file API key's secret replaced by a reload (S1 -> S2), then replaced again (S2 leaked)
// while no replica runs: the start must record the key as leaving, so S2's runs end.
func TestStartRecordsASecondSecretReplacement(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	withSecret := func(s string) catalog.Objects {
		o := file()
		o.APIKeys = []config.APIKey{{ID: "ops", SecretSHA256: hashHex(s), Bindings: o.APIKeys[0].Bindings}}
		return o
	}
	ref := catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}
	store := catalog.NewMemory()
	now := t0
	clock := func() time.Time { return now }
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withSecret("s1"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour)
	if _, err := m.Reload(ctx, withSecret("s2")); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Hour)
	m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withSecret("s3"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := m2.Live().Load().Meta(ref)
	if want := now.Add(catalog.SettleTime); !meta.Created.Equal(want) {
		t.Errorf("key ops counts as created at %v, want %v: the runs the replaced secret s2 started go on", meta.Created, want)
	}
}
