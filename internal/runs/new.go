package runs

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/brokerhq/broker/internal/redact"
	"github.com/oklog/ulid/v2"
)

// TokenPrefix starts every run token, so a leaked one is easy to recognise and scan for.
const TokenPrefix = redact.Prefix + "run_"

// tokenBytes is the number of random bytes in a run token (256 bits).
const tokenBytes = 32

// ErrInvalidRun reports a NewRun that lacks a space, a stack or a positive TTL.
var ErrInvalidRun = errors.New("invalid run")

// NewRun describes a run to start.
type NewRun struct {
	// Space is the id of the stack's space.
	Space string
	// Stack is the id of the stack the run belongs to.
	Stack string
	// Type is the run type.
	Type Type
	// Phase is the phase the run starts in; empty means INITIALIZING.
	Phase Phase
	// Now is the start time; zero means time.Now().
	Now time.Time
	// TTL is how long the run and its token live; it must be positive.
	TTL time.Duration
	// Entropy is the source of the id's randomness and of the token; nil means crypto/rand.
	Entropy io.Reader
	// CreatedBy is the id of the API key starting the run (Run.CreatedBy).
	CreatedBy string
}

// New starts a run: it validates cfg and returns the run together with its run token, the
// opaque secret a worker presents. The token is TokenPrefix followed by the unpadded base64url
// encoding of 32 random bytes; store only HashToken(token). The id is a ULID whose timestamp
// is the start time; times are UTC with millisecond precision, and ExpiresAt is CreatedAt+TTL.
func New(cfg NewRun) (Run, string, error) {
	if cfg.Space == "" {
		return Run{}, "", fmt.Errorf("%w: a run needs a space", ErrInvalidRun)
	}
	if cfg.Stack == "" {
		return Run{}, "", fmt.Errorf("%w: a run needs a stack", ErrInvalidRun)
	}
	if cfg.TTL <= 0 {
		return Run{}, "", fmt.Errorf("%w: run TTL must be positive, got %s", ErrInvalidRun, cfg.TTL)
	}
	phase := cfg.Phase
	if phase == "" {
		phase = Initializing
	}
	if err := CheckInitialPhase(cfg.Type, phase); err != nil {
		return Run{}, "", err
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Truncate also drops the monotonic reading, so the times compare and serialise cleanly.
	now = now.UTC().Truncate(time.Millisecond)
	entropy := cfg.Entropy
	if entropy == nil {
		entropy = rand.Reader
	}

	id, err := ulid.New(ulid.Timestamp(now), entropy)
	if err != nil {
		return Run{}, "", fmt.Errorf("generate run id: %w", err)
	}
	secret := make([]byte, tokenBytes)
	if _, err := io.ReadFull(entropy, secret); err != nil {
		return Run{}, "", fmt.Errorf("generate run token: %w", err)
	}
	run := Run{
		ID:        id.String(),
		Space:     cfg.Space,
		Stack:     cfg.Stack,
		RunType:   cfg.Type,
		Phase:     phase,
		Scope:     ScopeOf(cfg.Type, phase),
		CreatedAt: now,
		ExpiresAt: now.Add(cfg.TTL),
		CreatedBy: cfg.CreatedBy,
	}
	return run, TokenPrefix + base64.RawURLEncoding.EncodeToString(secret), nil
}
