package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// replayIssuer is the issuer of replayTrail's checkpoints.
const replayIssuer = "https://broker.test"

// replayTrail builds, at now, a trail dated two hours earlier: five events, a checkpoint
// over them, four more events and a checkpoint over all ten (positions 5 and 10), signed by s
// on a schedule of every 5 events or 60 seconds.
func replayTrail(t *testing.T, s *checkpointSigner, now time.Time) []audit.Event {
	t.Helper()
	at := now.Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
	var events []audit.Event
	for i := 0; i < 11; i++ {
		e := audit.Event{ID: fmt.Sprintf("ev%02d", i), Time: at, Actor: "run:r", Action: "token.issue",
			Space: "prod", Outcome: audit.Success, Detail: fmt.Sprintf("scope write %d", i)}
		if i == 5 || i == 10 {
			relink(t, events)
			tail, err := audit.Hash(events[len(events)-1])
			if err != nil {
				t.Fatal(err)
			}
			claim := audit.Checkpoint{Issuer: replayIssuer, Count: int64(i), Tail: tail, Time: at,
				Every: 5, Interval: 60}
			payload, _ := json.Marshal(claim)
			jws, err := s.sign(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			e = audit.Event{ID: fmt.Sprintf("cp%02d", i), Time: at, Actor: audit.CheckpointActor,
				Action: audit.CheckpointAction, Space: "root", Outcome: audit.Success, Detail: jws}
		}
		events = append(events, e)
	}
	relink(t, events)
	return events
}

// The rule of ErrUnanchored: events that no
// verifying checkpoint covers, older than the schedule allows, mean checkpoints were removed.
// A store writer who cannot sign removes the last checkpoint and the four token events before
// it, puts copies of the earlier checkpoint in their place and relinks: the four tokens are
// gone from the trail and no checkpoint covers their positions, so verification must fail, as
// it does when the writer removes only the last checkpoint.
func TestReplayedCheckpointsDoNotHideEvents(t *testing.T) {
	s := newCheckpointSigner(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	cfg := audit.AnchorConfig{Issuer: replayIssuer, Keys: s.published(), Now: now}
	if _, err := audit.VerifyAnchored(replayTrail(t, s, now), cfg); err != nil {
		t.Fatalf("the intact trail: %v", err)
	}
	tests := []struct {
		name string
		from int // events from here to position 10 become copies of the checkpoint at 5
	}{
		{"only the last checkpoint replaced", 10},
		{"the last checkpoint and the four events before it replaced", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := replayTrail(t, s, now)
			for i := tt.from; i <= 10; i++ {
				events[i] = events[5]
				events[i].ID = fmt.Sprintf("copy%02d", i)
			}
			relink(t, events)
			r, err := audit.VerifyAnchored(events, cfg)
			if err == nil {
				t.Errorf("VerifyAnchored passed (anchored %d of %d, unanchored %d), want an error",
					r.Anchored, r.Events, r.Unanchored)
			} else if !errors.Is(err, audit.ErrUnanchored) && !errors.Is(err, audit.ErrForged) {
				t.Errorf("VerifyAnchored = %v, want ErrUnanchored or ErrForged", err)
			}
		})
	}
}

// The same rule for checkpoints signed by
// a key the JWKS does not publish: they anchor nothing, so a store writer who replaces the
// last checkpoint and the events before it with such "checkpoints" (any key will do) leaves
// those positions covered by no checkpoint that verifies, older than the schedule allows, and
// verification must fail as it does for ordinary events there.
func TestUnverifiableCheckpointsDoNotHideEvents(t *testing.T) {
	s := newCheckpointSigner(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	cfg := audit.AnchorConfig{Issuer: replayIssuer, Keys: s.published(), Now: now}
	events := replayTrail(t, s, now)
	fake := replayTrail(t, newCheckpointSigner(t), now) // its checkpoints name another key
	for i := 6; i <= 10; i++ {
		events[i] = fake[10]
		events[i].ID = fmt.Sprintf("fake%02d", i)
	}
	relink(t, events)
	r, err := audit.VerifyAnchored(events, cfg)
	if err == nil {
		t.Errorf("VerifyAnchored passed (anchored %d of %d, unanchored %d, %d unverifiable), "+
			"want ErrUnanchored", r.Anchored, r.Events, r.Unanchored, len(r.Unverifiable))
	}
}
