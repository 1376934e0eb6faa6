package server

import (
	"context"
	"fmt"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// writeBackActor is the actor of the events of changes the catalog writes back to a store that
// lost them.
const writeBackActor = "system:writeback"

// writeBackRecord is the catalog.WriteBackLog of a replica: one event per change it writes back
// to a store that went back, filed under root, recorded before the change is committed again.
// A record that fails leaves the change unwritten; the next refresh records it again, so a
// change may have more than one such event, never none.
type writeBackRecord struct{ s *Server }

// Before implements catalog.WriteBackLog: a success event per change, named as the admin API
// names the change (see writeBackAction).
func (r writeBackRecord) Before(ctx context.Context, wb catalog.WriteBack) error {
	for _, ch := range wb.Changes {
		e := api.Event{Actor: writeBackActor, Action: writeBackAction(ch), Space: config.RootSpace, Outcome: audit.Success,
			Detail: fmt.Sprintf("%s written back at version %d: the store lost this change (revision %d, this replica had %d)",
				ch.Ref, ch.Version, wb.Revision, wb.Had)}
		if ch.Ref.Kind == catalog.KindIntegration {
			e.Integration = ch.Ref.ID
		}
		if err := r.s.events.Record(ctx, e); err != nil {
			return fmt.Errorf("the audit event of %s could not be recorded: %w", ch.Ref, err)
		}
	}
	return nil
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
