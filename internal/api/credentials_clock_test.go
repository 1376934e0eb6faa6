package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// clockSeen is an exchanger that keeps the Request.Now of each exchange.
type clockSeen struct {
	mu   sync.Mutex
	seen []time.Time
}

func (c *clockSeen) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	c.mu.Lock()
	c.seen = append(c.seen, req.Now)
	c.mu.Unlock()
	return fakeExchanger{}.Exchange(ctx, req)
}

// TestExchangeGetsTheWorkersClock: an exchange is told the time on the worker's clock, the one
// the run's expiry is judged by, so the lifetime it asks of the cloud ends with the run (see
// exchange.Lifetime). Without it the exchange would read the machine's clock.
func TestExchangeGetsTheWorkersClock(t *testing.T) {
	at := time.Now().Add(7 * time.Minute).Truncate(time.Millisecond)
	seen := &clockSeen{}
	h := newRunsHarnessWith(t, harnessOptions{aws: seen, workerNow: func() time.Time { return at }})
	run := h.start(t, runs.Tracked, runs.Planning)
	if code, _ := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"}); code != http.StatusOK {
		t.Fatalf("credentials: %d", code)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.seen) != 1 || !seen.seen[0].Equal(at) {
		t.Errorf("the exchange was told the time %v, want the worker's %v", seen.seen, at)
	}
}
