package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// scriptedLimiter answers Failed from a table, and records the keys it was asked about.
type scriptedLimiter struct {
	waits map[string]time.Duration
	errs  map[string]error
	asked []string
}

func (s *scriptedLimiter) Failed(_ context.Context, key string) (time.Duration, error) {
	s.asked = append(s.asked, key)
	return s.waits[key], s.errs[key]
}

// pairLimiter is a PairLimiter that answers FailedPair in one call.
type pairLimiter struct {
	scriptedLimiter
	pairs int
}

func (p *pairLimiter) FailedPair(context.Context, string, string) (time.Duration, error) {
	p.pairs++
	return 42 * time.Second, nil
}

// TestFailedPairUsesThePairLimiter: a PairLimiter counts both keys in its own one call.
func TestFailedPairUsesThePairLimiter(t *testing.T) {
	p := &pairLimiter{}
	wait, err := ratelimit.FailedPair(context.Background(), p, "ip:a", "cred:b")
	if err != nil || wait != 42*time.Second || p.pairs != 1 || len(p.asked) != 0 {
		t.Errorf("FailedPair on a PairLimiter: wait %v, err %v, %d pair calls, Failed asked %v; want its FailedPair once", wait, err, p.pairs, p.asked)
	}
}

// TestFailedPairUncountedWaitsZero: a key that could not be counted waits zero, and the
// error reports it.
func TestFailedPairUncountedWaitsZero(t *testing.T) {
	down := errors.New("store down")
	l := &scriptedLimiter{waits: map[string]time.Duration{"cred:b": 5 * time.Second}, errs: map[string]error{"cred:b": down}}
	wait, err := ratelimit.FailedPair(context.Background(), l, "ip:a", "cred:b")
	if wait != 0 || !errors.Is(err, down) {
		t.Errorf("second key not counted: wait %v, err %v; want 0 and the error", wait, err)
	}
	// The first key failing to count: the second is counted, and its block is the wait.
	l = &scriptedLimiter{waits: map[string]time.Duration{"cred:b": 5 * time.Second}, errs: map[string]error{"ip:a": down}}
	wait, err = ratelimit.FailedPair(context.Background(), l, "ip:a", "cred:b")
	if wait != 5*time.Second || !errors.Is(err, down) || len(l.asked) != 2 {
		t.Errorf("first key not counted: wait %v, err %v, asked %v; want the second's 5s, the error, both asked", wait, err, l.asked)
	}
}
