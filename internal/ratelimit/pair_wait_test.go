package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// TestFailedPairAnyFirstBlockStops checks that a first key with any time of block left,
// however short, is the wait, and the second key is then not counted.
// Guards against: pair.go `err == nil && wait > 0` -> `wait > 1` (a 1ns block ignored)
func TestFailedPairAnyFirstBlockStops(t *testing.T) {
	l := &scriptedLimiter{waits: map[string]time.Duration{"ip:a": time.Nanosecond}}
	wait, err := ratelimit.FailedPair(context.Background(), l, "ip:a", "cred:b")
	if wait != time.Nanosecond || err != nil || len(l.asked) != 1 {
		t.Errorf("wait %v, err %v, asked %v; want 1ns, no error, only ip:a asked",
			wait, err, l.asked)
	}
}
