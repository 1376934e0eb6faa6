package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Policy: AuthFailures failures within Window block an address for Cooloff. A zero AuthFailures
// disables the limiter.
type Policy struct {
	AuthFailures int
	Window       time.Duration
	Cooloff      time.Duration
}

// Limiter counts failures per client address.
type Limiter interface {
	// Blocked returns how long addr must still wait, zero when it is not blocked.
	Blocked(ctx context.Context, addr string) (time.Duration, error)
	// Failed records one failure of addr, blocking it when the policy's threshold is reached.
	Failed(ctx context.Context, addr string) error
}

// ErrUnavailable wraps failures to reach a shared limiter's backing store.
var ErrUnavailable = errors.New("rate limiter unavailable")
