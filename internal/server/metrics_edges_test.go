package server

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestSigningKeyAgeFollowsTheClock: broker_signing_key_age_seconds is the age of the key that signs
// by default, read from the replica's clock at scrape time (operators alert on a key that stopped
// rotating), not a constant.
// Guards against: metrics.go:198 return now().Sub(snap.Signing.Created).Seconds() -> return 0
func TestSigningKeyAgeFollowsTheClock(t *testing.T) {
	start := time.Now()
	var offset atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	ts := startServer(t, serverOptions{now: now, keyRefresh: time.Hour})
	before := value(t, scrape(t, ts), "broker_signing_key_age_seconds")
	offset.Store(int64(2 * time.Hour))
	after := value(t, scrape(t, ts), "broker_signing_key_age_seconds")
	if d := after - before; math.Abs(d-7200) > 5 {
		t.Errorf("broker_signing_key_age_seconds went from %v to %v over 2h of the replica's clock, want +7200", before, after)
	}
}

// TestRedisMissesAreNotErrors: lookups of what Redis does not hold (an unknown run, an unknown run
// token) leave broker_redis_errors_total at zero: operators alert on it, and any client could
// otherwise raise it at will.
// Guards against: metrics.go:229 errors.Is(err, redis.Nil) dropped from failedWith
func TestRedisMissesAreNotErrors(t *testing.T) {
	rs := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: rs.URL(), keyBackend: "redis"})
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/run_nosuchrunnosuchrun", bearer: adminSecret}); code != 404 {
		t.Fatalf("GET unknown run: %d, want 404", code)
	}
	if _, code := ts.mint(t, "brk_run_nosuchtokennosuchtokennosuchtoken", ""); code != 401 {
		t.Fatalf("mint with an unknown run token: %d, want 401", code)
	}
	if got := value(t, scrape(t, ts), "broker_redis_errors_total"); got != 0 {
		t.Errorf("broker_redis_errors_total = %v after lookups of missing keys, want 0", got)
	}
}

// TestFailedWith: which command endings count as Redis failures.
// Guards against: metrics.go:229 any of the non-failures (redis.Nil, TxFailedErr, context.Canceled,
// NOSCRIPT) counted
func TestFailedWith(t *testing.T) {
	ctx := context.Background()
	get := redis.NewStringCmd(ctx, "get", "k")
	for _, tc := range []struct {
		name string
		cmd  redis.Cmder
		err  error
		want bool
	}{
		{"ok", get, nil, false},
		{"missing key", get, redis.Nil, false},
		{"lost optimistic transaction", get, redis.TxFailedErr, false},
		{"caller canceled", get, context.Canceled, false},
		{"script not cached", redis.NewCmd(ctx, "evalsha", "x"), redisReply("NOSCRIPT No matching script"), false},
		{"setinfo unknown", redis.NewStatusCmd(ctx, "client", "setinfo", "lib-name", "x"), redisReply("ERR unknown subcommand"), false},
		{"server down", get, errors.New("dial tcp: connection refused"), true},
		{"server error", get, redisReply("OOM command not allowed"), true},
	} {
		if got := failedWith(tc.cmd, tc.err); got != tc.want {
			t.Errorf("%s: failedWith = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// redisReply is an error as Redis answers it (redis.Error).
type redisReply string

func (e redisReply) Error() string { return string(e) }
func (e redisReply) RedisError()   {}
