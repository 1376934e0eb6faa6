package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// writeBackActor is the actor of the events of changes the catalog writes back to a store that
// lost them.
const writeBackActor = "system:writeback"

// writeBackRecord is the catalog.WriteBackLog of a replica: one event per change it writes back
// to a store that went back, filed where the admin API files that object's changes (see
// catalog.WrittenBack), recorded before the change is committed again.
// A record that fails leaves the change unwritten; the next refresh records it again, so a
// change may have more than one such event, never none. An event recorded for a change that
// was not written back after all (a later event of the same write-back could not be recorded,
// or the commit failed) is followed by an error event saying so.
type writeBackRecord struct{ s *Server }

// Before implements catalog.WriteBackLog: a success event per change, named as the admin API
// names the change (see writeBackAction).
func (r writeBackRecord) Before(ctx context.Context, wb catalog.WriteBack) error {
	for i, ch := range wb.Changes {
		e := writeBackEvent(wb, ch, audit.Success, fmt.Sprintf("%s written back at version %d: the store lost this change (revision %d, this replica had %d)",
			ch.Ref, ch.Version, wb.Revision, wb.Had))
		if err := r.s.events.Record(ctx, e); err != nil {
			recorded := wb
			recorded.Changes = wb.Changes[:i]
			if audit.MayLandLater(err) {
				recorded.Changes = wb.Changes[:i+1] // this one's event may land too
			}
			// Each change's event is filed under its own space: it names no other object,
			// whose space's auditors alone may read of it. The log names the one that failed.
			r.s.log.WarnContext(ctx, "catalog: an event of a write-back could not be recorded; nothing is written back", "object", ch.Ref.String(), "err", err)
			r.notWrittenBack(ctx, recorded, "not written back, another event of the same write-back could not be recorded (the next refresh tries again)")
			return fmt.Errorf("the audit event of %s could not be recorded: %w", ch.Ref, err)
		}
	}
	return nil
}

// NotCommitted implements catalog.WriteBackLog: each event recorded in Before is followed by an
// error event saying its change was not written back.
func (r writeBackRecord) NotCommitted(ctx context.Context, wb catalog.WriteBack, err error) {
	why := "not confirmed written back, the catalog store failed before it answered: "
	if errors.Is(err, catalog.ErrStale) {
		why = "not written back, another change was committed first (the next refresh compares the store again): "
	}
	r.notWrittenBack(ctx, wb, why+err.Error())
}

// notWrittenBack records an error event for each change of wb saying why it was not written
// back; one that cannot be recorded is logged.
func (r writeBackRecord) notWrittenBack(ctx context.Context, wb catalog.WriteBack, why string) {
	ctx = context.WithoutCancel(ctx)
	for _, ch := range wb.Changes {
		e := writeBackEvent(wb, ch, audit.Failed, cutDetail(fmt.Sprintf("%s at version %d %s", ch.Ref, ch.Version, why)))
		if err := r.s.events.Record(ctx, e); err != nil {
			r.s.log.WarnContext(ctx, "catalog: the event saying a change was not written back could not be recorded",
				"object", ch.Ref.String(), "err", err)
		}
	}
}

// writeBackEvent is the event of ch, a change of wb, with outcome and detail: filed where the
// catalog places it (root when it names no space), by the catalog once wb is written back.
func writeBackEvent(wb catalog.WriteBack, ch catalog.WrittenBack, outcome, detail string) api.Event {
	space := ch.Space
	if space == "" {
		space = config.RootSpace
	}
	return api.Event{Actor: writeBackActor, Action: writeBackAction(ch), Run: runs.Run{Space: space, Stack: ch.Stack},
		Integration: ch.Integration, Also: ch.Also, Index: wb.Index, Outcome: outcome, Detail: detail}
}

// writeBackAction is the action the admin API records for ch: "<kind>.put" or "<kind>.delete"
// (as its kind handlers form them), but "api_key.create" for an API key's put, an API key being
// only ever created (POST /v1/api-keys).
func writeBackAction(ch catalog.WrittenBack) string {
	switch {
	case ch.Deleted:
		return string(ch.Ref.Kind) + ".delete"
	case ch.Ref.Kind == catalog.KindAPIKey:
		return string(ch.Ref.Kind) + ".create"
	default:
		return string(ch.Ref.Kind) + ".put"
	}
}
