package server

import (
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestRedisErrorsAreCounted stops the Redis server under a replica: the requests that needed it
// fail and broker_redis_errors_total counts them; it counted none while Redis was up.
func TestRedisErrorsAreCounted(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("token: %d", code)
	}
	if got := value(t, scrape(t, ts), "broker_redis_errors_total"); got != 0 {
		t.Errorf("broker_redis_errors_total = %v with Redis up", got)
	}
	redis.Stop()
	if _, code := ts.mint(t, run.RunToken, ""); code != 503 {
		t.Fatalf("token with Redis down: %d, want 503", code)
	}
	if got := value(t, scrape(t, ts), "broker_redis_errors_total"); got < 1 {
		t.Errorf("broker_redis_errors_total = %v after a failed lookup", got)
	}
}

// TestNoRedisErrorsWithoutRedis: the counter exists, at zero, on a replica without Redis.
func TestNoRedisErrorsWithoutRedis(t *testing.T) {
	ts := startServer(t, serverOptions{})
	if got := value(t, scrape(t, ts), "broker_redis_errors_total"); got != 0 {
		t.Errorf("broker_redis_errors_total = %v", got)
	}
}
