package issuer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// NotBeforeSkew is how far `nbf` is backdated to tolerate relying parties whose clocks run behind.
const NotBeforeSkew = 30 * time.Second

// Errors from Mint.
var (
	ErrNoSigningKey = errors.New("no signing key is active")
	ErrRunExpired   = errors.New("run has expired")
	ErrUnknownSpace = errors.New("run's space is not configured")
)

// KeySource hands out the current key snapshot; *keys.Manager implements it.
type KeySource interface {
	Snapshot() *keys.Snapshot
}

// Config configures an Issuer.
type Config struct {
	// Issuer is the exact `iss` claim.
	Issuer string
	// Keys supplies the signing key.
	Keys KeySource
	// TTL is a token's lifetime before the run-expiry cap.
	TTL time.Duration
	// DefaultAudience is the `aud` when a request names none.
	DefaultAudience string
	// Spaces renders `sub` per space (a *claims.Spaces, or the live catalog).
	Spaces Subjects
	// AlgorithmFor returns the one signing algorithm the relying party of an audience accepts
	// (empty for any); nil means every audience accepts any.
	AlgorithmFor func(audience string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxConcurrentSigns bounds how many tokens are signed at once with in-process keys, the
	// others waiting their turn first come, first served; 0 means GOMAXPROCS (one per core).
	// Remote signers are not bounded.
	MaxConcurrentSigns int
}

// Subjects renders the `sub` of a run; ok is false for an unknown space.
type Subjects interface {
	Subject(s claims.Subject) (sub string, ok bool)
}

// Issuer mints ID tokens. It is safe for concurrent use.
type Issuer struct {
	cfg     Config
	signers atomic.Pointer[signerCache]
	gate    signGate
}

// signerCache holds the signers of one key-set version, by KID.
type signerCache struct {
	version string
	byKID   map[string]*cachedSigner
}

// cachedSigner is the signing key of one key-set version with its JWS header already encoded,
// so minting a token costs one JSON encoding of the claims and one signature.
type cachedSigner struct {
	version string
	kid     string
	sign    func(ctx context.Context, signingInput []byte) ([]byte, error)
	// header is the base64url of {"alg","kid","typ"} followed by ".".
	header string
	// inProcess is set when the key signs on this machine's CPU (Issuer.gate applies).
	inProcess bool
	// length is how long one signature holds a core (see letArrivalsQueue).
	length signLength
	// sigB64 is the base64url length of the key's signatures, 0 when not known.
	sigB64 int
}

// New returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	if cfg.Issuer == "" || cfg.Keys == nil || cfg.Spaces == nil || cfg.TTL <= 0 {
		return nil, errors.New("issuer: Issuer, Keys, Spaces and a positive TTL are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{cfg: cfg, gate: newSignGate(cfg.MaxConcurrentSigns)}, nil
}

// Idle reports whether no signature with an in-process key is being computed or waits for a
// core: the cores are free of signing for the moment. Keys signed elsewhere (a remote signer)
// never make it false.
func (i *Issuer) Idle() bool { return i.gate.idle() }

// Request asks for a token for a run.
type Request struct {
	Run runs.Run
	// Audience is the `aud`; empty means the configured default.
	Audience string
	// AWSSessionTags adds AWS's session-tags claim (space, stack, run, scope).
	AWSSessionTags bool
	// Algorithm is the one signing algorithm the relying party accepts; empty means what
	// Config.AlgorithmFor gives for the audience.
	Algorithm string
}

// Token is a minted token.
type Token struct {
	JWT       string
	Claims    claims.Claims
	ExpiresAt time.Time
	KID       string
}

// Mint signs a token for req.Run as it is now (its current phase and scope): Prepare, then
// Sign. ctx bounds the signature when the key lives in a key service; its failure to sign wraps
// keys.ErrUnavailable.
func (i *Issuer) Mint(ctx context.Context, req Request) (Token, error) {
	d, err := i.Prepare(req)
	if err != nil {
		return Token{}, err
	}
	return i.Sign(ctx, d)
}

// Draft is a token up to its signature: its claims (with its `jti`) are final, and so is the
// key that will sign it. A Draft comes from Prepare.
type Draft struct {
	Claims    claims.Claims
	ExpiresAt time.Time
	signer    *cachedSigner
}

// Prepare builds the claims of a token for req.Run as it is now and picks its signing key, so
// that what is known of the token before its signature (its `jti`, audience and scope) can be
// put to use while it is signed. The scope comes from runs.Run.EffectiveScope: a run record
// whose stored scope disagrees with its type and phase gets no token, and the error wraps
// runs.ErrCorrupt.
func (i *Issuer) Prepare(req Request) (Draft, error) {
	now := i.cfg.Now().UTC().Truncate(time.Second)
	run := req.Run
	scope, err := run.EffectiveScope()
	if err != nil {
		return Draft{}, fmt.Errorf("issuer: %w", err)
	}
	run.Scope = scope // the claims, `sub` and session tags below read only the derived scope
	// exp is a count of seconds, and so is the expiresAt the caller is told.
	exp := now.Add(i.cfg.TTL).Truncate(time.Second)
	if run.ExpiresAt.Before(exp) {
		exp = run.ExpiresAt.UTC().Truncate(time.Second)
	}
	// exp counts in whole seconds: a run ending within the current second would get a token
	// that expires as it is issued, which every relying party refuses.
	if !exp.After(now) {
		return Draft{}, ErrRunExpired
	}
	sub, ok := i.cfg.Spaces.Subject(claims.Subject{
		SpaceID: run.Space, CallerType: claims.CallerTypeStack, CallerID: run.Stack, Run: run,
	})
	if !ok {
		return Draft{}, fmt.Errorf("%w: %s", ErrUnknownSpace, run.Space)
	}
	aud := req.Audience
	if aud == "" {
		aud = i.cfg.DefaultAudience
	}
	jti, err := newJTI()
	if err != nil {
		return Draft{}, err
	}
	c := claims.Claims{
		Issuer: i.cfg.Issuer, Subject: sub, Audience: aud,
		Expiry: exp.Unix(), IssuedAt: now.Unix(), NotBefore: now.Add(-NotBeforeSkew).Unix(), ID: jti,
		SpaceID: run.Space, CallerType: claims.CallerTypeStack, CallerID: run.Stack,
		RunType: run.RunType, RunID: run.ID, RunPhase: run.Phase, Scope: run.Scope,
	}
	if req.AWSSessionTags {
		tags := claims.SessionTags(run, run.Scope)
		c.AWSTags = &claims.AWSTags{PrincipalTags: make(map[string][]string, len(tags))}
		for k, v := range tags {
			c.AWSTags.PrincipalTags[k] = []string{v}
		}
	}
	alg := req.Algorithm
	if alg == "" && i.cfg.AlgorithmFor != nil {
		alg = i.cfg.AlgorithmFor(aud)
	}
	s, err := i.currentSigner(alg)
	if err != nil {
		return Draft{}, err
	}
	return Draft{Claims: c, ExpiresAt: exp, signer: s}, nil
}

// Sign signs the token d drafts.
func (i *Issuer) Sign(ctx context.Context, d Draft) (Token, error) {
	s := d.signer
	if s == nil {
		return Token{}, fmt.Errorf("%w: the draft has no key (it did not come from Prepare)", ErrNoSigningKey)
	}
	var buf [768]byte // the claims of a token fit, so they are encoded without a heap allocation
	jwt, err := i.sign(ctx, s, d.Claims.AppendJSON(buf[:0]))
	if err != nil {
		return Token{}, fmt.Errorf("sign token with key %s: %w", s.kid, err)
	}
	return Token{JWT: jwt, Claims: d.Claims, ExpiresAt: d.ExpiresAt, KID: s.kid}, nil
}

// sign is s.compact(payload), through the gate when s signs in process.
func (i *Issuer) sign(ctx context.Context, s *cachedSigner, payload []byte) (string, error) {
	if s.inProcess {
		i.gate.enterFor(s.length)
		defer i.gate.leave()
	}
	return s.compact(ctx, payload)
}

// currentSigner returns the signer of the snapshot's key that signs with alg, or of its
// default signing key when alg is empty. Signers are built only when the key set changed.
func (i *Issuer) currentSigner(alg string) (*cachedSigner, error) {
	snap := i.cfg.Keys.Snapshot()
	if snap == nil || snap.Signing.Signer == nil {
		return nil, ErrNoSigningKey
	}
	key := snap.Signing
	if alg != "" && alg != key.Alg {
		var ok bool
		if key, ok = snap.SigningFor(alg); !ok {
			return nil, &AlgNotDueError{Alg: alg, Due: firstDue(snap, alg)}
		}
	}
	cache := i.signers.Load()
	if cache == nil || cache.version != snap.Version {
		cache = &signerCache{version: snap.Version, byKID: map[string]*cachedSigner{}}
		for _, k := range append([]keys.Key{snap.Signing}, snap.Signers...) {
			c, err := newCachedSigner(snap.Version, k)
			if err != nil {
				return nil, err
			}
			c.inProcess, c.length, c.sigB64 = inProcess(k.Signer), signLengthOf(k.Signer), signatureB64Len(k.Signer)
			cache.byKID[k.KID] = c
		}
		i.signers.Store(cache)
	}
	return cache.byKID[key.KID], nil
}

func newJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// AlgNotDueError is Mint's error, wrapping ErrNoSigningKey, for an audience that accepts only
// Alg when no key of Alg signs: none is kept, or the one kept was added to a published key set
// and is prepublished until Due (zero when no key of Alg is published).
type AlgNotDueError struct {
	Alg string
	Due time.Time
}

func (e *AlgNotDueError) Error() string {
	if e.Due.IsZero() {
		return fmt.Sprintf("%v: the audience accepts only %s, and no %s key is kept", ErrNoSigningKey, e.Alg, e.Alg)
	}
	return fmt.Sprintf("%v: the audience accepts only %s, whose key signs from %s", ErrNoSigningKey, e.Alg, e.Due.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrNoSigningKey) hold.
func (e *AlgNotDueError) Unwrap() error { return ErrNoSigningKey }

// firstDue returns the earliest Activates still ahead of the snapshot's time among the keys of
// alg snap publishes; zero for none (a chain no longer kept leaves its keys published, their
// activations past, until they expire).
func firstDue(snap *keys.Snapshot, alg string) time.Time {
	var due time.Time
	for _, k := range snap.Published {
		if k.Alg == alg && k.Activates.After(snap.At) && (due.IsZero() || k.Activates.Before(due)) {
			due = k.Activates
		}
	}
	return due
}
