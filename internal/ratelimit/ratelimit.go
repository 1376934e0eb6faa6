package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Policy: AuthFailures failures of a key within Window block it for Cooloff, and failures
// while blocked count towards a fresh block. A zero AuthFailures disables the limiter.
type Policy struct {
	AuthFailures int
	Window       time.Duration
	Cooloff      time.Duration
}

// Limiter counts failures per key (a client address, a credential prefix). It only ever sees
// failures: whoever presents a valid credential is never asked about.
type Limiter interface {
	// Failed records one failure of key and returns how long key was already blocked for:
	// the rest of its block, or zero when it was not blocked (the failure that reaches the
	// threshold included, so the first AuthFailures failures of a key all return zero).
	Failed(ctx context.Context, key string) (time.Duration, error)
}

// ErrUnavailable wraps failures to reach a shared limiter's backing store.
var ErrUnavailable = errors.New("rate limiter unavailable")
