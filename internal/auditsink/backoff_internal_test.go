package auditsink

import (
	"math"
	"testing"
	"time"
)

func TestBackoffDoublesWithinItsCap(t *testing.T) {
	for _, tc := range []struct {
		n          int
		limit      time.Duration
		base, high time.Duration
	}{
		{1, time.Minute, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, time.Minute, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, time.Minute, 400 * time.Millisecond, 800 * time.Millisecond},
		{40, 30 * time.Second, 15 * time.Second, 30 * time.Second},
		{1, 10 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond},
		// A cap near the largest duration: doubling must stop at the cap, not wrap past it.
		{40, math.MaxInt64, math.MaxInt64 / 2, math.MaxInt64},
		{200, math.MaxInt64 - 1, (math.MaxInt64 - 1) / 2, math.MaxInt64 - 1},
	} {
		for range 100 {
			if d := backoff(tc.n, tc.limit); d < tc.base || d > tc.high {
				t.Fatalf("backoff(%d, %s) = %s, want within [%s, %s]", tc.n, tc.limit, d, tc.base, tc.high)
			}
		}
	}
}
