package runs

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
)

// Type is a run type.
type Type string

// Run types.
const (
	Proposed Type = "PROPOSED"
	Tracked  Type = "TRACKED"
	Task     Type = "TASK"
	Destroy  Type = "DESTROY"
)

// Phase is a run phase.
type Phase string

// Phases.
const (
	Initializing Phase = "INITIALIZING"
	Planning     Phase = "PLANNING"
	Applying     Phase = "APPLYING"
	Performing   Phase = "PERFORMING"
	Destroying   Phase = "DESTROYING"
	Finished     Phase = "FINISHED"
)

// Scope is the access level a phase carries.
type Scope string

// Scopes.
const (
	Read  Scope = "read"
	Write Scope = "write"
)

// Run is one run of a stack, as the API returns it.
type Run struct {
	ID        string    `json:"id"`
	Space     string    `json:"space"`
	Stack     string    `json:"stack"`
	RunType   Type      `json:"runType"`
	Phase     Phase     `json:"phase"`
	Scope     Scope     `json:"scope"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// CreatedBy is the id of the API key that started the run: the run ends when that key
	// does (deleted, or removed from the file). Empty for runs started before it was recorded.
	CreatedBy string `json:"createdBy,omitempty"`
}

// TokenHash is the SHA-256 of a run token; the token itself is never stored.
type TokenHash [sha256.Size]byte

// HashToken returns the hash under which a run token is stored.
func HashToken(token string) TokenHash {
	var buf [128]byte // run tokens fit: hashing one does not allocate
	return sha256.Sum256(append(buf[:0], token...))
}

// Store keeps runs. Implementations must be safe for concurrent use and must never serve a run
// past its ExpiresAt.
type Store interface {
	// Create stores a new run, reachable by id and by its token hash until run.ExpiresAt.
	// It fails with ErrExists if the id is taken.
	Create(ctx context.Context, run Run, token TokenHash) error
	// Get returns the run with that id, or ErrNotFound when absent or expired.
	Get(ctx context.Context, id string) (Run, error)
	// GetByToken returns the run a token belongs to, or ErrNotFound when the token is unknown,
	// its run expired or its run is finished (a finished run's token is revoked).
	GetByToken(ctx context.Context, token TokenHash) (Run, error)
	// Update atomically replaces the run with fn's result (compare-and-swap: concurrent updates
	// never lose each other's change). fn's error is returned unchanged and nothing is stored.
	// A run updated to FINISHED has its token revoked at once.
	Update(ctx context.Context, id string, fn func(Run) (Run, error)) (Run, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// Store errors.
var (
	ErrNotFound = errors.New("run not found")
	ErrExists   = errors.New("run already exists")
	// ErrUnavailable wraps failures to reach the store's backing service.
	ErrUnavailable = errors.New("run store unavailable")
)
