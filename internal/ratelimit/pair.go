package ratelimit

import (
	"context"
	"errors"
	"time"
)

// PairLimiter is a Limiter that can count one failure against two keys at once, in one call to
// its backing store: a shared limiter implements it to save a round trip per failure.
type PairLimiter interface {
	Limiter
	// FailedPair does what FailedPair does with two calls of Failed.
	FailedPair(ctx context.Context, first, second string) (time.Duration, error)
}

// FailedPair records one failure of first and, unless first was already blocked, of second,
// and returns how long the failure must wait: first's rest of block, else second's. So the
// second key (a credential's prefix) is not counted while the first (the client) is blocked.
// A PairLimiter does it in one call; any other Limiter in two. A key that could not be counted
// waits zero (and second is then counted); the error reports it, and the wait returned with it
// is what could be counted.
func FailedPair(ctx context.Context, l Limiter, first, second string) (time.Duration, error) {
	if pl, ok := l.(PairLimiter); ok {
		return pl.FailedPair(ctx, first, second)
	}
	wait, err := l.Failed(ctx, first)
	if err == nil && wait > 0 {
		return wait, nil
	}
	wait2, err2 := l.Failed(ctx, second)
	if err2 != nil {
		wait2 = 0
	}
	return wait2, errors.Join(err, err2)
}
