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
	// Now is when the trail was listed; time.Now() when zero (VerifyListed: when each listing
	// begins).
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
	// Unanchored counts the events from position Anchored on that are not checkpoints that
	// anchored events (a checkpoint that does not verify, or covers no more than one before it,
	// counts as any event): a verifier without State cannot tell if such events were changed or
	// removed.
	Unanchored int64
	// Verified counts the checkpoints that verified.
	Verified int
	// Unverifiable are the checkpoints signed by keys the JWKS no longer publishes (keys leave
	// it some time after they stop signing); they anchor nothing.
	Unverifiable []Anchor
	// State is what to keep for the next verification.
	State State
	// LateAnchors counts the LateAnchorAction events of the trail, and LastLateAnchor is the
	// position of the last: a replica anchored events that followed the latest checkpoint later
	// than the schedule allows (checkpoints removed, perhaps to hide a rewrite, or every replica
	// stopped before signing them).
	LateAnchors, LastLateAnchor int64
}

// VerifyAnchored checks a whole trail, oldest first from the chain's first event: every link
// (ErrBroken), every checkpoint event's signature against cfg.Keys (ErrForged) and that the
// events it covers are still there (ErrTruncated) and unchanged (ErrRewritten), that no more
// events follow the latest checkpoint that verifies, and none older, than the checkpoint
// schedule allows (ErrUnanchored: a store writer who cannot sign removed the checkpoints
// covering an event it rewrote, or replaced their signatures), and, with cfg.State, that the
// trail still begins with what was last verified. VerifyListed checks a trail as it is listed.
func VerifyAnchored(events []Event, cfg AnchorConfig) (Report, error) {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	return VerifyListed(func(add func([]Event)) error { add(events); return nil }, cfg)
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
