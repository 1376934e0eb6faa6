package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Tampering VerifyAnchored finds besides ErrBroken.
var (
	// ErrRewritten: the events a signed checkpoint (or the verifier's state) covers are no longer
	// the ones it covered.
	ErrRewritten = errors.New("audit trail rewritten")
	// ErrTruncated: the trail holds fewer events than a signed checkpoint (or the verifier's
	// state) covered.
	ErrTruncated = errors.New("audit trail truncated")
	// ErrForged: a checkpoint event whose JWS is malformed, of another type or issuer, or whose
	// signature does not verify with the published key it names.
	ErrForged = errors.New("audit checkpoint forged")
	// ErrUnanchored: more events follow the latest checkpoint that verifies, or older ones, than
	// the replicas' checkpoint schedule leaves unanchored: checkpoints were removed or their
	// signatures replaced (or the replicas could not write any).
	ErrUnanchored = errors.New("audit trail not anchored")
)

// errUnpublished: a checkpoint names a key the JWKS does not hold.
var errUnpublished = errors.New("signed by a key the JWKS does not publish")

// checkpointAlgs are the algorithms broker signs with.
var checkpointAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// AnchorConfig is what VerifyAnchored checks checkpoints against.
type AnchorConfig struct {
	// Issuer is the iss every checkpoint must carry.
	Issuer string
	// Keys is the issuer's JWKS.
	Keys *jose.JSONWebKeySet
	// State, when set, is what the verifier kept from an earlier verification.
	State *State
	// Now is when the trail was listed; time.Now() when zero.
	Now time.Time
	// Every and Interval are the checkpoint schedule to hold the trail to when no checkpoint
	// verifies, or the one that does predates the schedule in the claim (the defaults when zero).
	Every    int64
	Interval time.Duration
}

// The schedule a verifier assumes when neither AnchorConfig nor a checkpoint names one: the
// replicas' defaults.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
)

// anchorSlack is what the bounds on unanchored events allow beyond the schedule: the
// checkpointer looks at the chain every quarter interval, and signing and appending take time
// during which events go on being appended, on clocks that may differ.
const anchorSlack = time.Minute

// State is what a verifier keeps outside the store from one verification to the next: the trail
// must still begin with the events it saw then. It is what detects the removal of the latest
// events, checkpoints included, which no checkpoint in the store can.
type State struct {
	// Issuer is the broker the state belongs to.
	Issuer string `json:"issuer"`
	// Count and Tail are the length and last hash of the trail last verified.
	Count int64  `json:"count"`
	Tail  string `json:"tail"`
	// Checkpoint is the latest checkpoint verified so far (compact JWS), "" when none.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// Anchor is a checkpoint event of the trail.
type Anchor struct {
	Event Event
	// At is the event's position in the chain.
	At int64
	// KID is the key it names.
	KID string
	// Claim is what it signs; zero for a checkpoint that could not be verified.
	Claim Checkpoint
}

// Report is what VerifyAnchored found in a trail it found untampered.
type Report struct {
	// Events is the trail's length.
	Events int64
	// Latest is the last checkpoint that verified, nil when none did.
	Latest *Anchor
	// Anchored is how many leading events Latest covers (0 when none).
	Anchored int64
	// Unanchored counts the events from position Anchored on that are not checkpoints: a
	// verifier without State cannot tell if such events were changed or removed.
	Unanchored int64
	// Verified counts the checkpoints that verified.
	Verified int
	// Unverifiable are the checkpoints signed by keys the JWKS no longer publishes (keys leave
	// it some time after they stop signing); they anchor nothing.
	Unverifiable []Anchor
	// State is what to keep for the next verification.
	State State
}

// VerifyAnchored checks a whole trail, oldest first from the chain's first event: every link
// (ErrBroken), every checkpoint event's signature against cfg.Keys (ErrForged) and that the
// events it covers are still there (ErrTruncated) and unchanged (ErrRewritten), that no more
// events follow the latest checkpoint that verifies, and none older, than the checkpoint
// schedule allows (ErrUnanchored: a store writer who cannot sign removed the checkpoints
// covering an event it rewrote, or replaced their signatures), and, with cfg.State, that the
// trail still begins with what was last verified.
func VerifyAnchored(events []Event, cfg AnchorConfig) (Report, error) {
	r := Report{Events: int64(len(events))}
	if len(events) > 0 && events[0].Prev != "" {
		return r, fmt.Errorf("%w: the first event %s has prev %q: the start of the chain is missing (without store.redis a replica keeps only the latest audit.memory.retain events)",
			ErrBroken, events[0].ID, events[0].Prev)
	}
	if err := Verify(events); err != nil {
		return r, err
	}
	for i, e := range events {
		if e.Action != CheckpointAction {
			continue
		}
		a := Anchor{Event: e, At: int64(i)}
		var err error
		a.KID, a.Claim, err = verifyCheckpoint(e.Detail, cfg)
		if errors.Is(err, errUnpublished) {
			r.Unverifiable = append(r.Unverifiable, a)
			continue
		}
		if err != nil {
			return r, fmt.Errorf("%w: checkpoint %s (#%d): %w", ErrForged, e.ID, i+1, err)
		}
		if a.Claim.Time != e.Time {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) was signed at %s but its event says %s", ErrRewritten, e.ID, i+1, a.Claim.Time, e.Time)
		}
		if a.Claim.Count > int64(i) {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events, but only %d precede it", ErrTruncated, e.ID, i+1, a.Claim.Count, i)
		}
		if err := coversPrefix(events, a.Claim.Count, a.Claim.Tail); err != nil {
			return r, fmt.Errorf("%w: checkpoint %s (#%d) signed the chain's first %d events ending in hash %s, but the trail's first %d events end in %s",
				ErrRewritten, e.ID, i+1, a.Claim.Count, a.Claim.Tail, a.Claim.Count, err.Error())
		}
		r.Verified++
		if r.Latest == nil || a.Claim.Count >= r.Anchored {
			latest := a
			r.Latest, r.Anchored = &latest, a.Claim.Count
		}
	}
	for _, e := range events[r.Anchored:] {
		if e.Action != CheckpointAction {
			r.Unanchored++
		}
	}
	if err := checkCadence(events, r, cfg); err != nil {
		return r, err
	}
	if err := checkState(events, cfg); err != nil {
		return r, err
	}
	r.State = nextState(events, cfg, r.Latest)
	return r, nil
}

// checkCadence checks the events r leaves unanchored against the checkpoint schedule (the latest
// verified checkpoint's, else cfg's): at most twice Every of them older than anchorSlack, and
// none older than Interval and a quarter, plus anchorSlack, before cfg.Now. A running replica
// anchors overdue events within a quarter interval, and at once when it starts (also when its
// schedule changed), so older unanchored events mean checkpoints that were there are gone, or no
// longer verify.
func checkCadence(events []Event, r Report, cfg AnchorConfig) error {
	every, interval := cfg.Every, cfg.Interval
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	if interval <= 0 {
		interval = DefaultCheckpointInterval
	}
	if r.Latest != nil && r.Latest.Claim.Every > 0 && r.Latest.Claim.Interval > 0 {
		every, interval = r.Latest.Claim.Every, time.Duration(r.Latest.Claim.Interval)*time.Second
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Events of the last anchorSlack are not counted: a burst appends them while a checkpoint is
	// being signed.
	settled := now.Add(-anchorSlack)
	var old int64
	for _, e := range events[r.Anchored:] {
		if at, err := time.Parse(time.RFC3339Nano, e.Time); e.Action != CheckpointAction && (err != nil || at.Before(settled)) {
			old++
		}
	}
	if old > 2*every {
		return fmt.Errorf("%w: %d events older than %s follow the latest checkpoint that verifies, but checkpoints follow every %d events: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, old, anchorSlack, every)
	}
	oldest := now.Add(-(interval + interval/4 + anchorSlack))
	for i, e := range events[r.Anchored:] {
		if e.Action == CheckpointAction {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, e.Time)
		if err == nil && !at.Before(oldest) {
			continue
		}
		return fmt.Errorf("%w: event %s (#%d) of %s is covered by no checkpoint that verifies, but checkpoints follow an event within %s: checkpoints were removed, or their signatures replaced",
			ErrUnanchored, e.ID, r.Anchored+int64(i)+1, e.Time, interval)
	}
	return nil
}

// verifyCheckpoint verifies a checkpoint's JWS with the key of cfg.Keys it names and returns
// that kid and the claim.
func verifyCheckpoint(jws string, cfg AnchorConfig) (string, Checkpoint, error) {
	var claim Checkpoint
	obj, err := jose.ParseSignedCompact(jws, checkpointAlgs)
	if err != nil {
		return "", claim, fmt.Errorf("detail is not a compact JWS signed with RS256 or ES256: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return "", claim, fmt.Errorf("%d signatures, want 1", len(obj.Signatures))
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != CheckpointType {
		return h.KeyID, claim, fmt.Errorf("JWS typ %q, want %q", typ, CheckpointType)
	}
	if h.KeyID == "" {
		return "", claim, errors.New("JWS names no kid")
	}
	var candidates []jose.JSONWebKey
	if cfg.Keys != nil {
		candidates = cfg.Keys.Key(h.KeyID)
	}
	if len(candidates) == 0 {
		return h.KeyID, claim, fmt.Errorf("key %s: %w", h.KeyID, errUnpublished)
	}
	var payload []byte
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm || k.Use != "" && k.Use != "sig" {
			continue
		}
		if payload, err = obj.Verify(k.Public()); err == nil {
			break
		}
	}
	if payload == nil {
		return h.KeyID, claim, fmt.Errorf("the signature does not verify with the published key %s", h.KeyID)
	}
	if err := json.Unmarshal(payload, &claim); err != nil {
		return h.KeyID, claim, fmt.Errorf("claim is not JSON: %w", err)
	}
	if claim.Issuer != cfg.Issuer {
		return h.KeyID, claim, fmt.Errorf("signed for issuer %q, not %q", claim.Issuer, cfg.Issuer)
	}
	if claim.Count < 0 {
		return h.KeyID, claim, fmt.Errorf("negative count %d", claim.Count)
	}
	return h.KeyID, claim, nil
}

// coversPrefix checks that events' first count events end in the hash tail, and returns the
// hash they end in otherwise.
func coversPrefix(events []Event, count int64, tail string) error {
	got := ""
	if count > 0 {
		var err error
		if got, err = Hash(events[count-1]); err != nil {
			return err
		}
	}
	if got != tail {
		if got == "" {
			return errors.New(`"" (no event)`)
		}
		return errors.New(got)
	}
	return nil
}

// checkState checks events against what cfg.State saw: its latest checkpoint's events and its
// whole trail must still lead the trail.
func checkState(events []Event, cfg AnchorConfig) error {
	s := cfg.State
	if s == nil {
		return nil
	}
	if s.Issuer != cfg.Issuer {
		return fmt.Errorf("the state is of issuer %q, not %q", s.Issuer, cfg.Issuer)
	}
	n := int64(len(events))
	if s.Checkpoint != "" {
		claim, err := decodeClaim(s.Checkpoint)
		if err != nil {
			return fmt.Errorf("the state's checkpoint: %w", err)
		}
		if claim.Count > n {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events, but the trail holds %d", ErrTruncated, claim.Count, n)
		}
		if err := coversPrefix(events, claim.Count, claim.Tail); err != nil {
			return fmt.Errorf("%w: a checkpoint verified earlier signed the chain's first %d events ending in hash %s, but they now end in %s",
				ErrRewritten, claim.Count, claim.Tail, err.Error())
		}
	}
	if s.Count > n {
		return fmt.Errorf("%w: the trail held %d events when last verified, it now holds %d", ErrTruncated, s.Count, n)
	}
	if err := coversPrefix(events, s.Count, s.Tail); err != nil {
		return fmt.Errorf("%w: the trail's first %d events ended in hash %s when last verified, they now end in %s", ErrRewritten, s.Count, s.Tail, err.Error())
	}
	return nil
}

// nextState is the state after verifying events: the whole trail, and the latest checkpoint
// verified now or earlier.
func nextState(events []Event, cfg AnchorConfig, latest *Anchor) State {
	s := State{Issuer: cfg.Issuer, Count: int64(len(events))}
	if len(events) > 0 {
		s.Tail, _ = Hash(events[len(events)-1]) // hashed by Verify already
	}
	if cfg.State != nil {
		s.Checkpoint = cfg.State.Checkpoint
	}
	if latest != nil {
		if old, err := decodeClaim(s.Checkpoint); s.Checkpoint == "" || err != nil || old.Count <= latest.Claim.Count {
			s.Checkpoint = latest.Event.Detail
		}
	}
	return s
}

// decodeClaim reads a checkpoint's claim without verifying it: for a checkpoint kept in the
// verifier's own state, verified when it was kept.
func decodeClaim(jws string) (Checkpoint, error) {
	var claim Checkpoint
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return claim, errors.New("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claim, fmt.Errorf("payload: %w", err)
	}
	if err := json.Unmarshal(raw, &claim); err != nil {
		return claim, fmt.Errorf("payload: %w", err)
	}
	return claim, nil
}
