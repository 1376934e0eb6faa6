package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// TestFailedPairFirstKeyErrorIsNotAWait pins that a first key the limiter could not count (an
// error, whatever wait came with it) neither stops the second key being counted nor lends its wait:
// the wait is the second key's, and the error is reported, not swallowed.
// Guards against: pair.go:28 `err == nil && wait > 0` -> `wait > 0` (error dropped, second not
// counted)
// Guards against: pair.go:35 `return wait2` -> `return max(wait, wait2)`
func TestFailedPairFirstKeyErrorIsNotAWait(t *testing.T) {
	down := errors.New("store down")
	for _, tc := range []struct {
		name       string
		secondWait time.Duration
	}{{"second not blocked", 0}, {"second blocked", 3 * time.Second}} {
		l := &scriptedLimiter{
			waits: map[string]time.Duration{"ip:a": 7 * time.Second, "cred:b": tc.secondWait},
			errs:  map[string]error{"ip:a": down},
		}
		wait, err := ratelimit.FailedPair(context.Background(), l, "ip:a", "cred:b")
		if wait != tc.secondWait || !errors.Is(err, down) || len(l.asked) != 2 {
			t.Errorf("%s: wait %v, err %v, asked %v; want the second's %v, the error, both keys asked",
				tc.name, wait, err, l.asked, tc.secondWait)
		}
	}
}
