package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestRollingReloadThenStartRecordsASecretLeave: two replicas on one store, file F1 (ops secret s1). A rolling reload to F2 (secret s2): A
// reloads first, then B; B's reload records the key's leave again (a tombstone newer than the
// file-as-seen record, which B leaves as it is). Later s2 leaks; every replica stops, the file
// gets s3, a replica starts: it must record the key as leaving, so s2's runs end.
func TestRollingReloadThenStartRecordsASecretLeave(t *testing.T) {
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
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withSecret("s1"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withSecret("s1"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour)
	if _, err := a.Reload(ctx, withSecret("s2")); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour + time.Minute)
	if _, err := b.Reload(ctx, withSecret("s2")); err != nil {
		t.Fatal(err)
	}
	// Runs are started with s2 from here on; then s2 leaks, every replica stops, the file gets s3.
	now = t0.Add(2 * time.Hour)
	c, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withSecret("s3"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := c.Live().Load().Meta(ref)
	if want := now.Add(catalog.SettleTime); !meta.Created.Equal(want) {
		t.Errorf("key ops counts as created at %v, want %v: the runs the replaced secret s2 started go on", meta.Created, want)
	}
}

// TestRollingReloadThenStartKeepsStackRunsEnded: the same for a stack: a rolling reload moves stack api from prod-eu to prod (A, then B); its
// runs start in prod. Every replica stops; the file drops api; a replica starts (api leaves
// prod: not recorded). Later api comes back in prod: the runs started in prod before the drop
// must stay ended.
func TestRollingReloadThenStartKeepsStackRunsEnded(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	with := func(space string) catalog.Objects {
		o := file()
		if space != "" {
			o.Stacks = append(o.Stacks, config.Stack{ID: "api", Space: space})
		}
		return o
	}
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "api"}
	store := catalog.NewMemory()
	now := t0
	clock := func() time.Time { return now }
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod-eu"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod-eu"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour)
	if _, err := a.Reload(ctx, with("prod")); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Hour + time.Minute)
	if _, err := b.Reload(ctx, with("prod")); err != nil {
		t.Fatal(err)
	}
	// A run of api starts in prod at t0+90m.
	runAt := t0.Add(90 * time.Minute)
	now = t0.Add(2 * time.Hour)
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with(""), Now: clock}); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2*time.Hour + time.Minute)
	d, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("prod"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := d.Live().Load().Meta(ref)
	if !runAt.Before(meta.Created) {
		t.Errorf("api back in prod counts as placed at %v, before the run started at %v in prod before api left the file: that run is live again", meta.Created, runAt)
	}
}
