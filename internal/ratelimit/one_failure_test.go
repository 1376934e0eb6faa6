package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// TestOneFailureBlocks: limits.auth_failures: 1 (accepted by the configuration) means
// one failure starts a block; only 0 disables the limiter.
func TestOneFailureBlocks(t *testing.T) {
	l := ratelimit.NewMemory(ratelimit.Policy{AuthFailures: 1, Window: time.Minute, Cooloff: time.Minute}, nil)
	if wait, _ := l.Failed(context.Background(), "k"); wait != 0 {
		t.Fatalf("first failure waits %v", wait)
	}
	if wait, _ := l.Failed(context.Background(), "k"); wait <= 0 {
		t.Fatalf("second failure with auth_failures 1: wait %v, want the block", wait)
	}
}
