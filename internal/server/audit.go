package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oklog/ulid/v2"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// auditRecorder turns the API's events into audit events on the chain, indexed under the run's
// space and every ancestor, so a listing of a space holds its subtree.
type auditRecorder struct {
	// store is the audit chain events are appended to.
	store audit.Store
	// catalog gives each space's path from root, for indexing; nil (before the catalog exists)
	// files events that name no catalog under root.
	catalog *catalog.Live
	// now is the clock that times each event.
	now func() time.Time
	// log receives a key-set change that could not be recorded; nil drops that line.
	log *slog.Logger
	// runs, when it is a runs.Holder (the store in this process), checks an event's Version;
	// otherwise store must be an audit.CheckedStore that does.
	runs runs.Store
	// keySet keeps the key set the trail last recorded, saved after each keys.* event; nil
	// keeps none.
	keySet audit.KeySetStore

	// chain reads the chain store appends to, to look for a key-set event whose append failed
	// before sending it again (an append that failed may still land); nil, for a store whose
	// failed appends never land, sends it again unchecked.
	chain audit.Reader

	// keyMu guards keyWaiting: the key-set events not yet in the trail, oldest first.
	keyMu      sync.Mutex
	keyWaiting []keyEvent
}

// Record implements api.Recorder.
func (a *auditRecorder) Record(ctx context.Context, e api.Event) error {
	outcome := e.Outcome
	if outcome == "" {
		outcome = audit.Success
	}
	// Upstream messages and request paths can carry any bytes; an event must be valid UTF-8 to
	// have a hash, and one that has none would not be in the trail.
	valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	space := e.Run.Space
	if space == "" {
		space = e.Space
	}
	cat := e.Index
	if cat == nil && a.catalog != nil {
		cat = a.catalog.Load()
	}
	var paths []string
	if cat != nil {
		filed := space
		if e.Run.ID != "" && e.Run.Space != "" {
			// Filed under its run's space: a run whose space was deleted since is root's.
			filed = api.RunHome(cat, e.Run)
		}
		paths = cat.SpacePath(filed)
	}
	if paths == nil { // no configured space: file it under root, so it is never out of sight
		paths = []string{config.RootSpace}
	}
	if len(e.Also) > 0 && cat != nil {
		paths = slices.Clone(paths) // the catalog's own
		for _, also := range e.Also {
			for _, p := range cat.SpacePath(also) {
				if !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}
		}
	}
	ev := audit.Event{
		ID:          ulid.Make().String(),
		Time:        a.now().UTC().Format(time.RFC3339Nano),
		Actor:       valid(e.Actor),
		Action:      valid(e.Action),
		Space:       valid(space),
		Stack:       valid(e.Run.Stack),
		Run:         valid(e.Run.ID),
		Integration: valid(e.Integration),
		Outcome:     outcome,
		Detail:      valid(e.Detail),
	}
	if e.Version.IsZero() {
		_, err := a.store.Append(ctx, ev, paths)
		return err
	}
	if h, ok := a.runs.(runs.Holder); ok {
		return h.WhileUnchanged(e.Version, func() error {
			_, err := a.store.Append(ctx, ev, paths)
			return err
		})
	}
	cs, ok := a.store.(audit.CheckedStore)
	if !ok {
		return fmt.Errorf("%w: the audit store cannot check a run", runs.ErrChanged)
	}
	_, err := cs.AppendChecked(ctx, ev, paths, e.Version)
	return err
}

// droppedAhead introduces, in a key-set event, the keys removed because a replica whose clock ran
// ahead saved them: neither expired nor revoked, they never signed on a replica whose clock is
// right.
const droppedAhead = "keys saved on a clock running ahead dropped (not revoked: no replica with a right clock signed with them): "

// recordKeys records a key-set change saved by this replica (keys.Manager's OnChange). The
// change is already saved, so a failure to record it is logged and tried again (see
// recordKeyEvent) rather than undone.
func (a *auditRecorder) recordKeys(ctx context.Context, c keys.Change) {
	var detail []string
	if c.NewKID != "" {
		detail = append(detail, fmt.Sprintf("key %s (%s) published, signs from %s", c.NewKID, c.NewAlg, c.Activates.UTC().Format(time.RFC3339)))
	}
	if c.RetiredKID != "" {
		detail = append(detail, fmt.Sprintf("key %s stops signing at %s", c.RetiredKID, c.Retires.UTC().Format(time.RFC3339)))
	}
	if len(c.Dropped) > 0 {
		detail = append(detail, "expired keys removed: "+strings.Join(c.Dropped, ", "))
	}
	if len(c.DroppedAhead) > 0 {
		detail = append(detail, droppedAhead+strings.Join(c.DroppedAhead, ", "))
	}
	a.recordKeyEvent(ctx, audit.Event{
		ID: ulid.Make().String(), Actor: "system:keys", Action: "keys.rotate", Space: config.RootSpace, Outcome: audit.Success,
		Detail: fmt.Sprintf("generation %d: %s", c.Generation, strings.Join(detail, "; ")),
	}, c.InForce)
}

// recordLoadedKeys records a key-set change this replica put in force without having saved it:
// another replica's rotation, or `broker keys rotate|revoke`, which reach the trail only so.
// Each replica records what it loads (with several replicas on one store, one event each), and
// names itself by its host name.
func (a *auditRecorder) recordLoadedKeys(ctx context.Context, l keys.Loaded) {
	var detail []string
	for _, k := range l.Published {
		detail = append(detail, fmt.Sprintf("key %s (%s) published, signs from %s", k.KID, k.Alg, k.Activates.UTC().Format(time.RFC3339)))
	}
	for _, k := range l.Retired {
		detail = append(detail, fmt.Sprintf("key %s stops signing at %s", k.KID, k.Retires.UTC().Format(time.RFC3339)))
	}
	if len(l.Revoked) > 0 {
		detail = append(detail, "revoked (removed before they expired): "+strings.Join(l.Revoked, ", "))
	}
	if len(l.Dropped) > 0 {
		detail = append(detail, "expired keys removed: "+strings.Join(l.Dropped, ", "))
	}
	if len(l.DroppedAhead) > 0 {
		detail = append(detail, droppedAhead+strings.Join(l.DroppedAhead, ", "))
	}
	action := "keys.load"
	if len(l.Revoked) > 0 {
		action = "keys.revoke"
	}
	host, _ := os.Hostname()
	a.recordKeyEvent(ctx, audit.Event{
		ID: ulid.Make().String(), Actor: "system:keys", Action: action, Space: config.RootSpace, Outcome: audit.Success,
		Detail: fmt.Sprintf("generation %d (after %d), saved elsewhere, in force on %s: %s", l.Generation, l.From, host, strings.Join(detail, "; ")),
	}, l.InForce)
}

// newCheckpointer anchors the replica's audit store: checkpoints signed with the current
// signing key, at least as often as the configuration asks, and at least every half of
// keys.rotation.retain, so the latest checkpoint is signed by a key the JWKS still publishes.
func (s *Server) newCheckpointer(now func() time.Time) (*audit.Checkpointer, error) {
	cp := s.cfg.Audit.Checkpoint
	return audit.NewCheckpointer(audit.CheckpointConfig{
		Store: s.state.audit, Issuer: s.cfg.Issuer, Space: config.RootSpace,
		Every: int64(cp.Every), Interval: cp.Interval, MaxAge: checkpointMaxAge(s.cfg),
		Now: now, Logger: s.log, Sign: s.signCheckpoint, Keys: s.publishedKeys,
		// The sinks count a checkpoint as pending, and deliver it, as they do a request's event.
		Appended: func() {
			if s.sinks != nil {
				s.sinks.Notify()
			}
		},
	})
}

// publishedKeys is the JWKS the issuer publishes now (an empty set before the keys load).
func (s *Server) publishedKeys() *jose.JSONWebKeySet {
	if snap := s.keys.Snapshot(); snap != nil {
		return issuer.KeySet(snap)
	}
	return &jose.JSONWebKeySet{}
}

// checkpointMaxAge is the age at which a checkpoint is due even on a quiet chain: half of
// keys.rotation.retain, whatever audit.checkpoint.interval says, so that the latest checkpoint
// is always signed by a key the JWKS still publishes (a key signs at most until it retires and
// stays published retain after).
func checkpointMaxAge(c *config.Config) time.Duration { return c.Keys.Rotation.Retain / 2 }

// signCheckpoint signs a checkpoint with the key that signs tokens now.
func (s *Server) signCheckpoint(_ context.Context, payload []byte) (string, error) {
	snap := s.keys.Snapshot()
	if snap == nil {
		return "", keys.ErrNoSigningKey
	}
	return issuer.SignCompact(snap.Signing, audit.CheckpointType, payload)
}
