package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// seenStep is one start or reload of a replica on a file, at a time after the sequence began.
type seenStep struct {
	at time.Duration
	// replica names the replica; a start makes it, a reload uses it.
	replica string
	reload  bool
	file    catalog.Objects
}

// TestFileSequencesRecordEveryLeave: whatever mix of starts and reloads, on one replica or
// rolling over two, carries a file from one version to the next, a change made while every
// replica is stopped is recorded at the start that finds it: the object counts as placed then
// (SettleTime after), so the runs of the stack, or of the key's replaced secret, started
// before it end. Each sequence makes that change two hours in.
func TestFileSequencesRecordEveryLeave(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	stackIn := func(space string) catalog.Objects {
		o := file()
		if space != "" {
			o.Stacks = append(o.Stacks, config.Stack{ID: "api", Space: space})
		}
		return o
	}
	secret := func(s string) catalog.Objects {
		o := file()
		o.APIKeys = []config.APIKey{{ID: "ops", SecretSHA256: hashHex(s), Bindings: o.APIKeys[0].Bindings}}
		return o
	}
	stack, key := catalog.Ref{Kind: catalog.KindStack, ID: "api"}, catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}
	const h = time.Hour
	for _, tc := range []struct {
		name  string
		ref   catalog.Ref
		steps []seenStep
	}{
		{"a stack moved at a start, then moved back while stopped", stack, []seenStep{
			{0, "a", false, stackIn("prod-eu")}, {h, "b", false, stackIn("prod")}, {2 * h, "c", false, stackIn("prod-eu")}}},
		{"a stack moved by a reload, then moved back while stopped", stack, []seenStep{
			{0, "a", false, stackIn("prod-eu")}, {h, "a", true, stackIn("prod")}, {2 * h, "c", false, stackIn("prod-eu")}}},
		{"a key's secret replaced by a reload, then again while stopped", key, []seenStep{
			{0, "a", false, secret("s1")}, {h, "a", true, secret("s2")}, {2 * h, "c", false, secret("s3")}}},
		{"a key's secret replaced by a rolling reload, then again while stopped", key, []seenStep{
			{0, "a", false, secret("s1")}, {0, "b", false, secret("s1")},
			{h, "a", true, secret("s2")}, {h + time.Minute, "b", true, secret("s2")},
			{2 * h, "c", false, secret("s3")}}},
		{"a stack moved by a rolling reload, dropped while stopped, then put back", stack, []seenStep{
			{0, "a", false, stackIn("prod-eu")}, {0, "b", false, stackIn("prod-eu")},
			{h, "a", true, stackIn("prod")}, {h + time.Minute, "b", true, stackIn("prod")},
			{2 * h, "c", false, stackIn("")}, {2*h + time.Minute, "d", false, stackIn("prod")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := catalog.NewMemory()
			now := t0
			replicas := map[string]*catalog.Manager{}
			var last *catalog.Manager
			for _, s := range tc.steps {
				now = t0.Add(s.at)
				var err error
				if s.reload {
					_, err = replicas[s.replica].Reload(ctx, s.file)
				} else {
					replicas[s.replica], err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: s.file, Now: func() time.Time { return now }})
				}
				if err != nil {
					t.Fatalf("%s at %v: %v", s.replica, s.at, err)
				}
				last = replicas[s.replica]
			}
			meta, _ := last.Live().Load().Meta(tc.ref)
			if want := t0.Add(2*h + catalog.SettleTime); !meta.Created.Equal(want) {
				t.Errorf("%s counts as placed at %v, want %v: the runs started before the change made while stopped go on",
					tc.ref, meta.Created.Sub(t0), want.Sub(t0))
			}
		})
	}
}
