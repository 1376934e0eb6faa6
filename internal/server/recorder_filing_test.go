package server

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// listedIn returns the events store indexes under space, oldest first.
func listedIn(t *testing.T, store audit.Store, space string) []audit.Event {
	t.Helper()
	events, _, err := store.List(context.Background(), space, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// catalogOfSpaces builds a catalog holding root and spaces (each directly under root).
func catalogOfSpaces(t *testing.T, spaces ...string) *catalog.Catalog {
	t.Helper()
	objs := catalog.Objects{Spaces: []config.Space{{ID: config.RootSpace}}}
	for _, id := range spaces {
		objs.Spaces = append(objs.Spaces, config.Space{ID: id, Parent: config.RootSpace})
	}
	c, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEventOfUnknownSpaceFiledUnderRoot: an event naming a space the catalog does not hold
// (or none) is still filed under root, so an auditor of root sees it; it is never in the chain
// yet out of every listing.
// Guards against: audit.go:Record root fallback for paths == nil dropped
func TestEventOfUnknownSpaceFiledUnderRoot(t *testing.T) {
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: time.Now, catalog: catalog.NewLive(catalogOfSpaces(t))}
	for _, space := range []string{"no-such-space", ""} {
		if err := rec.Record(context.Background(), api.Event{Actor: "tester", Action: "test.act", Space: space, Outcome: audit.Denied, Detail: "space " + space}); err != nil {
			t.Fatalf("Record(%q): %v", space, err)
		}
	}
	if got := listedIn(t, store, config.RootSpace); len(got) != 2 {
		t.Errorf("root lists %d events, want the 2 that name no known space: %+v", len(got), got)
	}
}

// TestEventFiledByTheCatalogItNames: an event that names the catalog it is filed by (an event
// recorded before that catalog is in force) is indexed under the spaces of that catalog, not of the
// catalog in force.
// Guards against: audit.go:Record ignoring e.Index when a live catalog exists (cat == nil &&
// dropped)
func TestEventFiledByTheCatalogItNames(t *testing.T) {
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: time.Now, catalog: catalog.NewLive(catalogOfSpaces(t))}
	next := catalogOfSpaces(t, "new-space")
	if err := rec.Record(context.Background(), api.Event{Actor: "tester", Action: "space.put", Space: "new-space", Index: next}); err != nil {
		t.Fatal(err)
	}
	if got := listedIn(t, store, "new-space"); len(got) != 1 {
		t.Errorf("new-space lists %d events, want 1 (filed by the catalog the event names)", len(got))
	}
}

// TestEventDetailStoredAsValidUTF8: a detail carrying bytes that are not UTF-8 (an
// upstream's message) is stored with them replaced, so the stored event is valid UTF-8 and the
// chain's hash covers what a reader sees.
// Guards against: audit.go:Record Detail stored without strings.ToValidUTF8
func TestEventDetailStoredAsValidUTF8(t *testing.T) {
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: time.Now}
	if err := rec.Record(context.Background(), api.Event{Actor: "tester", Action: "test.act", Space: config.RootSpace, Detail: "upstream said \xff\xfe"}); err != nil {
		t.Fatal(err)
	}
	got := listedIn(t, store, config.RootSpace)
	if len(got) != 1 || !utf8.ValidString(got[0].Detail) || !strings.Contains(got[0].Detail, "\uFFFD") {
		t.Errorf("stored events %+v, want one whose detail is valid UTF-8 with the bad bytes replaced", got)
	}
}

// TestKeyEventAfterClockStepBackNamesChangeTime: a key-set event appended more than a
// second away from when its change happened names the change's time in its detail, also when
// the clock stepped back in between (the append time is then earlier than the change).
// Guards against: audit_keyqueue.go:sendKeyEvent `|| d < -time.Second` dropped
func TestKeyEventAfterClockStepBackNamesChangeTime(t *testing.T) {
	changed := time.Date(2030, 1, 1, 0, 5, 0, 0, time.UTC)
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, chain: store, now: func() time.Time { return changed.Add(-5 * time.Minute) }}
	w := &keyEvent{event: audit.Event{ID: "test-key-event", Actor: "system:keys", Action: "keys.rotate", Space: config.RootSpace,
		Outcome: audit.Success, Detail: "generation 2"}, at: changed}
	if err := rec.sendKeyEvent(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	got := listedIn(t, store, config.RootSpace)
	if len(got) != 1 || !strings.HasSuffix(got[0].Detail, "; changed at "+changed.Format(time.RFC3339)) {
		t.Errorf("stored %+v, want a detail ending with the change's time %s", got, changed.Format(time.RFC3339))
	}
}
