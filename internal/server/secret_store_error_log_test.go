package server

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestSecretAsRunIDStaysOutOfStoreErrorLog: a run token pasted where a run id goes
// (GET /v1/runs/<token>) while the Redis store is unreachable is cut from every log line: the
// "store unavailable" line's path, and its err attribute, the store's error, which names the id
// it looked up.
// Guards against: server.go:New logging through a handler that does not cut secrets from every
// attribute (redact.NewHandler)
func TestSecretAsRunIDStaysOutOfStoreErrorLog(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures})
	secret := ts.createRun(t, "vpc-prod", "TRACKED").RunToken
	body := strings.TrimPrefix(secret, "brk_run_")[:32]
	redis.Stop()
	var env envelope
	code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + secret, bearer: rootAdminSecret, out: &env})
	t.Logf("GET /v1/runs/<run token> with Redis down: %d %q", code, env.Error.Message)
	ts.stop()
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, body) {
			t.Errorf("a log line carries the run token:\n%s", line)
		}
	}
}

// TestFileKeySecretAsRunIDStaysOutOfStoreErrorLog: a file-declared key's secret (any form, not
// brk_) pasted where a run id goes while Redis is unreachable is cut from the "store
// unavailable" line's path and from its err attribute, the store's error naming the id.
// Guards against: errors.go:fail logging the error's text without loggedError
func TestFileKeySecretAsRunIDStaysOutOfStoreErrorLog(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures})
	ts.createRun(t, "vpc-prod", "TRACKED")
	redis.Stop()
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + rootAdminSecret, bearer: rootAdminSecret}); code != 503 {
		t.Errorf("GET /v1/runs/<file key secret> with Redis down: %d, want 503", code)
	}
	ts.stop()
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, rootAdminSecret) {
			t.Errorf("a log line carries the API key's secret:\n%s", line)
		}
	}
}
