package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
	"github.com/go-jose/go-jose/v4"
)

// storeOnly is an audit.Store with no method beyond Store's: it cannot check a run.
type storeOnly struct{ audit.Store }

// onlyEvent returns the one event store lists under root.
func onlyEvent(t *testing.T, store audit.Store) audit.Event {
	t.Helper()
	got := listedIn(t, store, config.RootSpace)
	if len(got) != 1 {
		t.Fatalf("root lists %d events, want 1", len(got))
	}
	return got[0]
}

// TestRotationDetailNamesEveryPart: the event of a key-set change saved by this replica
// names the generation, the published key with its algorithm and start, the key that stops
// signing and when, the expired keys removed and the keys dropped for a clock running ahead.
// Guards against: audit.go:recordKeys retired key left out of the detail
// Guards against: audit.go:recordKeys expired keys left out of the detail
// Guards against: audit.go:recordKeys keys dropped ahead left out of the detail
func TestRotationDetailNamesEveryPart(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: func() time.Time { return at }}
	rec.recordKeys(context.Background(), keys.Change{Generation: 7, NewKID: "k7", NewAlg: "ES256",
		Activates: at.Add(time.Hour), RetiredKID: "k6", Retires: at.Add(2 * time.Hour),
		Dropped: []string{"k4", "k5"}, DroppedAhead: []string{"k9"}})
	ev := onlyEvent(t, store)
	for _, part := range []string{
		"generation 7: ",
		"key k7 (ES256) published, signs from 2030-01-01T01:00:00Z",
		"key k6 stops signing at 2030-01-01T02:00:00Z",
		"expired keys removed: k4, k5",
		droppedAhead + "k9",
	} {
		if !strings.Contains(ev.Detail, part) {
			t.Errorf("detail %q does not name %q", ev.Detail, part)
		}
	}
	if ev.Action != "keys.rotate" || ev.Time != at.Format(time.RFC3339Nano) {
		t.Errorf("event %s at %s, want keys.rotate at %s", ev.Action, ev.Time, at)
	}
}

// TestLoadDetailNamesEveryPart: the event of a key-set change another process saved names
// both generations, this host, the published and retired keys, the revoked, expired and
// dropped-ahead keys.
// Guards against: audit.go:recordLoadedKeys published keys left out of the detail
// Guards against: audit.go:recordLoadedKeys retired keys left out of the detail
// Guards against: audit.go:recordLoadedKeys expired keys left out of the detail
// Guards against: audit.go:recordLoadedKeys detail names the new generation as the one it follows
func TestLoadDetailNamesEveryPart(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	host, _ := os.Hostname()
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: func() time.Time { return at }}
	rec.recordLoadedKeys(context.Background(), keys.Loaded{From: 4, Generation: 6,
		Published: []keys.Meta{{KID: "k6", Alg: "RS256", Activates: at.Add(time.Hour)}},
		Retired:   []keys.Meta{{KID: "k5", Retires: at.Add(2 * time.Hour)}},
		Dropped:   []string{"k2"}, DroppedAhead: []string{"k8"}})
	ev := onlyEvent(t, store)
	for _, part := range []string{
		"generation 6 (after 4), saved elsewhere, in force on " + host + ": ",
		"key k6 (RS256) published, signs from 2030-01-01T01:00:00Z",
		"key k5 stops signing at 2030-01-01T02:00:00Z",
		"expired keys removed: k2",
		droppedAhead + "k8",
	} {
		if !strings.Contains(ev.Detail, part) {
			t.Errorf("detail %q does not name %q", ev.Detail, part)
		}
	}
	if ev.Action != "keys.load" || strings.Contains(ev.Detail, "revoked (removed") {
		t.Errorf("event %s %q, want keys.load naming no revocation", ev.Action, ev.Detail)
	}
}

// TestRecordTimedByTheClock: a request's event is dated by the recorder's clock, in UTC,
// and keeps the run's stack and the integration it names.
// Guards against: audit.go:Record dated by time.Now instead of the recorder's clock
// Guards against: audit.go:Record stack or integration left out
func TestRecordTimedByTheClock(t *testing.T) {
	at := time.Date(2031, 2, 3, 4, 5, 6, 7, time.FixedZone("x", 3600))
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: func() time.Time { return at }}
	e := api.Event{Actor: "tester", Action: "token.issue", Integration: "aws-prod"}
	e.Run.Stack, e.Run.ID = "stack-a", "run-1"
	if err := rec.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	ev := onlyEvent(t, store)
	if want := at.UTC().Format(time.RFC3339Nano); ev.Time != want {
		t.Errorf("event time %s, want %s", ev.Time, want)
	}
	if ev.Stack != "stack-a" || ev.Integration != "aws-prod" || ev.Run != "run-1" {
		t.Errorf("event %+v, want stack-a, aws-prod, run-1", ev)
	}
}

// TestRecordOfARunRefusedWithoutACheck: an event tied to a run's version is refused (as
// the run having changed) when neither the run store nor the audit store can check the run, so
// it never enters the trail unchecked.
// Guards against: audit.go:Record appends unchecked when the store cannot check a run
func TestRecordOfARunRefusedWithoutACheck(t *testing.T) {
	store := audit.NewMemory()
	rec := &auditRecorder{store: storeOnly{store}, now: time.Now}
	e := api.Event{Actor: "tester", Action: "run.phase", Space: config.RootSpace}
	e.Version = runs.Version{ID: "run-1", Digest: "d1"}
	err := rec.Record(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "cannot check a run") {
		t.Errorf("Record = %v, want a refusal", err)
	}
	if n := len(listedIn(t, store, config.RootSpace)); n != 0 {
		t.Errorf("trail holds %d events, want none", n)
	}
}

// TestEventFiledOnceUnderASharedAncestor: an event filed under its space and the other
// spaces it names is listed once under each, including an ancestor their paths share.
// Guards against: audit.go:Record adds a space of another path that is already in the paths
func TestEventFiledOnceUnderASharedAncestor(t *testing.T) {
	store := audit.NewMemory()
	rec := &auditRecorder{store: store, now: time.Now,
		catalog: catalog.NewLive(catalogOfSpaces(t, "team-a", "team-b"))}
	e := api.Event{Actor: "tester", Action: "space.move", Space: "team-a", Also: []string{"team-b"}}
	if err := rec.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{config.RootSpace, "team-a", "team-b"} {
		if n := len(listedIn(t, store, space)); n != 1 {
			t.Errorf("%s lists the event %d times, want once", space, n)
		}
	}
}

// heldKeys is a key backend whose Load, once entered, reports it and holds the key
// manager's lock until released.
type heldKeys struct {
	keys.Backend
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (p *heldKeys) Load(ctx context.Context) (keys.Set, error) {
	p.once.Do(func() { close(p.entered); <-p.release })
	return p.Backend.Load(ctx)
}

// TestInForceUnreadableKeepsTheRecord: when the set in force cannot be read (the key
// manager stays busy past the caller's deadline), the record of the key set the trail last
// recorded is left as it was, not overwritten with an empty set.
// Guards against: audit_keyset.go:saveInForce saves after InForce failed
func TestInForceUnreadableKeepsTheRecord(t *testing.T) {
	ctx := context.Background()
	record := &audit.MemoryKeySet{}
	if err := record.SaveKeySet(ctx, keys.SetMeta{Generation: 5}); err != nil {
		t.Fatal(err)
	}
	rec := &auditRecorder{store: audit.NewMemory(), keySet: record, now: time.Now}
	backend := &heldKeys{Backend: keys.NewMemory(), entered: make(chan struct{}),
		release: make(chan struct{})}
	m, err := keys.NewManager(keys.Config{Backend: backend, Now: time.Now, Policy: keys.Policy{
		Period: 720 * time.Hour, Prepublish: time.Hour, Retain: time.Hour, Alg: keys.ES256}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = m.Refresh(ctx) }()
	<-backend.entered // the manager's lock is held
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	rec.saveInForce(cancelled, m)
	close(backend.release)
	<-done
	if r, found, err := record.LoadKeySet(ctx); err != nil || !found || r.Generation != 5 {
		t.Errorf("record = generation %d (found %v, %v), want 5 as before",
			r.Generation, found, err)
	}
}

// checkedTrail is a memory trail that can check a run: it appends only while the run's record
// is the version it was told, and counts the checked appends.
type checkedTrail struct {
	*audit.Memory
	current runs.Version
	checked int
}

func (p *checkedTrail) AppendChecked(ctx context.Context, e audit.Event, spaces []string,
	v runs.Version) (audit.Event, error) {
	p.checked++
	if v != p.current {
		return audit.Event{}, runs.ErrChanged
	}
	return p.Memory.Append(ctx, e, spaces)
}

// TestRecordOfAChangedRunRefused: an event tied to a run's version goes through the audit
// store's check when the run store cannot hold the run: an event of a run that changed since it
// was read is refused and not in the trail.
// Guards against: audit.go:Record appends without the audit store's check
func TestRecordOfAChangedRunRefused(t *testing.T) {
	store := &checkedTrail{Memory: audit.NewMemory(),
		current: runs.Version{ID: "run-1", Digest: "d2"}}
	rec := &auditRecorder{store: store, now: time.Now}
	e := api.Event{Actor: "tester", Action: "run.phase", Space: config.RootSpace}
	e.Version = runs.Version{ID: "run-1", Digest: "d1"}
	if err := rec.Record(context.Background(), e); !errors.Is(err, runs.ErrChanged) {
		t.Errorf("Record = %v, want %v", err, runs.ErrChanged)
	}
	if n := len(listedIn(t, store, config.RootSpace)); n != 0 || store.checked != 1 {
		t.Errorf("trail holds %d events after %d checks, want none after 1", n, store.checked)
	}
}

// TestCheckpointSignedWithAPublishedKey: checkpoints are signed with the key that signs
// tokens, which the published key set holds, so a checkpoint verifies against the JWKS.
// Guards against: audit.go:publishedKeys returns an empty set while keys are loaded
func TestCheckpointSignedWithAPublishedKey(t *testing.T) {
	srv, _, _ := unservedServer(t)
	jwks := srv.publishedKeys()
	sig, err := srv.signCheckpoint(context.Background(), []byte(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseSigned(sig, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil || len(obj.Signatures) != 1 {
		t.Fatalf("checkpoint signature %q: %v", sig, err)
	}
	found := jwks.Key(obj.Signatures[0].Header.KeyID)
	if len(found) != 1 {
		t.Fatalf("kid %q is not published in %d keys",
			obj.Signatures[0].Header.KeyID, len(jwks.Keys))
	}
	if _, err := obj.Verify(found[0].Public()); err != nil {
		t.Errorf("checkpoint does not verify against the published key: %v", err)
	}
}
