package server

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestRedisCallsBoundedByStoreTimeout: limits.store_timeout bounds each call to
// store.redis, not only the guard's: a replica configured with another value than the default
// hands it to the Redis client.
// Guards against: backends.go:openBackends opts.Timeout = cfg.Limits.StoreTimeout dropped
func TestRedisCallsBoundedByStoreTimeout(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "file", keyDir: t.TempDir(), extraYAML: "\nlimits: {store_timeout: 250ms}\n"})
	if got := ts.srv.state.redis.Timeout(); got != 250*time.Millisecond {
		t.Errorf("the Redis client bounds each call at %s, want limits.store_timeout 250ms", got)
	}
}

// TestWebhookSecretLengthBoundary: a webhook secret of exactly 16 bytes (white space around
// it left out) is accepted; one of 15 is refused.
// Guards against: sinks.go:readWebhookSecret len(secret) < minWebhookSecret -> <=
func TestWebhookSecretLengthBoundary(t *testing.T) {
	for _, tc := range []struct {
		content string
		ok      bool
	}{
		{strings.Repeat("s", 16) + "\n", true},
		{"  " + strings.Repeat("s", 15) + "\n", false},
	} {
		secret, err := readWebhookSecret("audit.sinks[0].webhook.secret_file", writeSecretFile(t, tc.content))
		if (err == nil) != tc.ok || (tc.ok && len(secret) != 16) {
			t.Errorf("secret file %q: %d bytes, %v; want ok=%v", tc.content, len(secret), err, tc.ok)
		}
	}
}
