package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// roundTrips counts the calls the Redis client sends (one per command, one per pipeline) that
// touch a run token key or a failed-authentication counter: the authentication of a request.
// Background work (key refresh, catalog polling, audit appends) touches neither.
type roundTrips struct {
	mu sync.Mutex
	n  int
}

func (h *roundTrips) touchesAuth(cmds ...redis.Cmder) bool {
	for _, c := range cmds {
		for _, a := range c.Args() {
			if s, ok := a.(string); ok && (strings.Contains(s, "runtoken:") || strings.Contains(s, "authfail:")) {
				return true
			}
		}
	}
	return false
}

func (h *roundTrips) add(cmds ...redis.Cmder) {
	if h.touchesAuth(cmds...) {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
}

func (h *roundTrips) take() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.n
	h.n = 0
	return n
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.add(cmds...)
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*roundTrips)(nil)

// One POST /v1/token on Redis authenticates in one round trip, and a refused one (an unknown
// run token) counts its failure against the client and the credential in one more.
func TestTokenAuthenticationRoundTripsOnRedis(t *testing.T) {
	rs := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: rs.URL(), keyBackend: "redis", quiet: true})
	hook := &roundTrips{}
	ts.srv.state.redis.Redis().AddHook(hook)
	run := ts.createRun(t, "app-a", "TRACKED")
	bad := run.RunToken[:len(run.RunToken)-4] + "XXXX"
	// Once each first: the scripts are loaded (a NOSCRIPT answer costs a second call once).
	ts.mint(t, run.RunToken, "")
	ts.mint(t, bad, "")
	const n = 10
	tests := []struct {
		name, token  string
		status, want int
	}{
		{"valid run token", run.RunToken, 200, 1},
		{"unknown run token", bad, 401, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hook.take()
			for i := range n {
				if _, code := ts.mint(t, tc.token, ""); code != tc.status {
					t.Fatalf("request %d: status %d, want %d", i, code, tc.status)
				}
			}
			if got := hook.take(); got != n*tc.want {
				t.Errorf("%d requests made %d authentication round trips to Redis, want %d each (%s)", n, got, tc.want,
					fmt.Sprintf("%.1f per request", float64(got)/n))
			}
		})
	}
}
