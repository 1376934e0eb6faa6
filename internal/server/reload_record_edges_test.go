package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// lastReload returns the outcome and detail of the latest config.reload event in trail.
func lastReload(t *testing.T, trail *downMemory) (outcome, detail string) {
	t.Helper()
	events, _, err := trail.List(context.Background(), config.RootSpace, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == "config.reload" {
			outcome, detail = e.Outcome, e.Detail
		}
	}
	if outcome == "" {
		t.Fatal("no config.reload event in the trail")
	}
	return outcome, detail
}

// TestReloadDetailNamesStartupOnlySettings: the success event of a reload says which
// objects changed ("none changed" when none did) and names the top-level settings that the
// file changed but that are read only at start-up, so an operator sees from the trail that
// those changes are not in force.
// Guards against: reload.go:reloadCatalog "; not applied until a restart" detail dropped
// Guards against: reload.go:reloadCatalog len(diff) > 0 -> >= 0
func TestReloadDetailNamesStartupOnlySettings(t *testing.T) {
	ctx := context.Background()
	srv, base, trail := unservedServer(t)
	next, err := config.Parse("test.yaml", []byte(strings.Replace(base, "ttl: 15m", "ttl: 20m", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(ctx, next, nil); err != nil {
		t.Fatalf("reload: %v", err)
	}
	want := "configuration file objects reloaded: none changed; not applied until a restart: tokens"
	if outcome, detail := lastReload(t, trail); outcome != audit.Success || detail != want {
		t.Errorf("config.reload event %s %q, want %s %q", outcome, detail, audit.Success, want)
	}
}

// TestStartRecordNamesEveryPart: the config.reload event of a start on a file changed
// while no replica ran names every kind of change: what left the file, what changed, what was
// added and what was removed.
// Guards against: reload.go:startRecord.Before Left part dropped
// Guards against: reload.go:startRecord.Before Removed part dropped
// Guards against: reload.go:startRecord.Before Added part dropped
func TestStartRecordNamesEveryPart(t *testing.T) {
	srv, _, trail := unservedServer(t)
	ch := catalog.StartChange{Left: []string{"stack gone"}, Changed: []string{"role edited"},
		Added: []string{"api_key new"}, Removed: []string{"role dropped"}}
	if err := (startRecord{s: srv}).Before(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	want := "configuration file changed while no replica ran on it, applied at start-up; " +
		"left the file or their place in it (their runs end): stack gone; " +
		"changed (new version): role edited; added: api_key new; removed: role dropped"
	if outcome, detail := lastReload(t, trail); outcome != audit.Success || detail != want {
		t.Errorf("config.reload event %s %q, want %s %q", outcome, detail, audit.Success, want)
	}
}

// TestStartNotCommittedDetail: a start's recorded changes that were then not committed
// are followed by a failed config.reload event saying why: another change was committed first
// (stale), or the store failed before it answered (any other error).
// Guards against: reload.go:startRecord.NotCommitted errors.Is(err, catalog.ErrStale) negated
func TestStartNotCommittedDetail(t *testing.T) {
	srv, _, trail := unservedServer(t)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("commit: %w", catalog.ErrStale), "configuration file changes at start-up " +
			"not applied by this replica, another change was committed first (checked again): " +
			"commit: " + catalog.ErrStale.Error()},
		{errors.New("disk full"), "configuration file changes at start-up not confirmed, the " +
			"catalog store failed before it answered: disk full"},
	} {
		startRecord{s: srv}.NotCommitted(context.Background(), tc.err)
		outcome, detail := lastReload(t, trail)
		if outcome != audit.Failed || detail != tc.want {
			t.Errorf("%v: config.reload event %s %q, want %s %q", tc.err, outcome, detail,
				audit.Failed, tc.want)
		}
	}
}

// ctxBoundTrail is a memory trail that refuses an append whose context has ended, as a store
// on the network does.
type ctxBoundTrail struct{ *audit.Memory }

func (p ctxBoundTrail) Append(ctx context.Context, e audit.Event,
	spaces []string) (audit.Event, error) {
	if err := ctx.Err(); err != nil {
		return audit.Event{}, err
	}
	return p.Memory.Append(ctx, e, spaces)
}

// TestWriteBackEventFiling: the event of a written-back change that names no space is
// filed under root, and every such event is filed by the catalog of the write-back.
// Guards against: writeback_record.go:writeBackEvent space "" -> root dropped
// Guards against: writeback_record.go:writeBackEvent Index: wb.Index dropped
func TestWriteBackEventFiling(t *testing.T) {
	ch := catalog.WrittenBack{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "r"}, Version: 1}
	wb := catalog.WriteBack{Index: &catalog.Catalog{}, Changes: []catalog.WrittenBack{ch}}
	e := writeBackEvent(wb, ch, audit.Success, "d")
	if e.Run.Space != config.RootSpace {
		t.Errorf("a role's write-back event is filed under space %q, want %q", e.Run.Space,
			config.RootSpace)
	}
	if e.Index != wb.Index {
		t.Error("the write-back event is not filed by the write-back's catalog")
	}
}

// TestNotWrittenBackOutlivesTheRequest: the error events saying a change was not
// written back are recorded even when the context of the write-back has ended (its refresh
// stopped or timed out): a success event in the trail is never left without them.
// Guards against: writeback_record.go:notWrittenBack ctx = context.WithoutCancel(ctx) dropped
func TestNotWrittenBackOutlivesTheRequest(t *testing.T) {
	trail := ctxBoundTrail{audit.NewMemory()}
	rec := writeBackRecord{s: &Server{log: slog.New(slog.DiscardHandler),
		events: &auditRecorder{store: trail, now: time.Now}}}
	wb := catalog.WriteBack{Changes: []catalog.WrittenBack{
		{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "r"}, Version: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec.NotCommitted(ctx, wb, errors.New("store down"))
	events, _, err := trail.List(context.Background(), config.RootSpace, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Outcome != audit.Failed {
		t.Errorf("events after NotCommitted on an ended context: %+v, want one error event", events)
	}
}
