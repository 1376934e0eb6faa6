package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestStartRefusesEvictingRedis: a replica does not start on a Redis with maxmemory and an
// allkeys-* policy, which may silently evict the audit chain, the catalog and the key set; it
// starts with a warning on a volatile-* policy or when INFO is refused, and without one on
// noeviction or without maxmemory.
func TestStartRefusesEvictingRedis(t *testing.T) {
	redis := redistest.Start(t)
	rc, ctx := redis.Client(), context.Background()
	if err := rc.Do(ctx, "ACL", "SETUSER", "noinfo", "on", ">secret", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	const (
		evictWarning   = "volatile-* maxmemory-policy"
		uncheckWarning = "could not check the eviction policy"
	)
	tests := []struct {
		name, maxmemory, policy string
		// user logs in as the ACL user that may not run INFO.
		user bool
		// wantErr lists substrings of New's error; none means New succeeds.
		wantErr []string
		// wantLog is a substring of the one warning logged; empty means neither warning is.
		wantLog string
	}{
		{"allkeys-lru with maxmemory", "100mb", "allkeys-lru", false,
			[]string{"store.redis", "maxmemory-policy allkeys-lru", "maxmemory-policy noeviction", "volatile-"}, ""},
		{"allkeys-lru without maxmemory", "0", "allkeys-lru", false, nil, ""},
		{"volatile-lru with maxmemory", "100mb", "volatile-lru", false, nil, evictWarning},
		{"noeviction with maxmemory", "100mb", "noeviction", false, nil, ""},
		{"INFO refused", "100mb", "allkeys-lru", true, nil, uncheckWarning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rc.ConfigSet(ctx, "maxmemory-policy", tt.policy).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rc.ConfigSet(ctx, "maxmemory", tt.maxmemory).Err(); err != nil {
				t.Fatal(err)
			}
			url := redis.URL()
			if tt.user {
				url = "redis://noinfo:secret@" + redis.Addr() + "/0"
			}
			logs := &logBuffer{}
			srv, err := newServerOnRedis(t, url, logs)
			if srv != nil {
				_ = srv.Close()
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("New = %v, want a started replica", err)
			}
			if len(tt.wantErr) > 0 {
				t.Logf("New: %v", err)
				if !errors.Is(err, redisstore.ErrEvictsAnyKey) {
					t.Fatalf("New = %v, want ErrEvictsAnyKey", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
			}
			for _, w := range []string{evictWarning, uncheckWarning} {
				want := 0
				if w == tt.wantLog {
					want = 1
				}
				if n := strings.Count(logs.String(), w); n != want {
					t.Errorf("warning %q logged %d times, want %d; logs:\n%s", w, n, want, logs)
				}
			}
		})
	}
}

// newServerOnRedis builds a replica whose store and key set are in the Redis at url, logging
// to logs.
func newServerOnRedis(t *testing.T, url string, logs *logBuffer) (*Server, error) {
	t.Helper()
	yaml := "issuer: http://127.0.0.1:1\nlisten: 127.0.0.1:0\nstore: {redis: {url: \"" + url + "\"}}\n" +
		"keys: {backend: redis, algorithm: ES256, redis: {encryption_key_file: " + writeSecretFile(t, testKEK) + "}}\n"
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return New(context.Background(), cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
}

// TestRunningReplicaNoticesEvictingRedis: a Redis set to an allkeys-* policy after the replica
// started (a CONFIG SET, or a failover to a server configured otherwise) is noticed at the next
// check: broker_redis_evicts_any_key turns 1 and an error is logged once; back on noeviction the
// gauge is 0 again. The replica keeps serving throughout.
func TestRunningReplicaNoticesEvictingRedis(t *testing.T) {
	redis := redistest.Start(t)
	rc, ctx := redis.Client(), context.Background()
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", evictionRecheck: 20 * time.Millisecond})
	gauge := func() float64 { return value(t, scrape(t, ts), "broker_redis_evicts_any_key") }
	if g := gauge(); g != 0 {
		t.Fatalf("broker_redis_evicts_any_key = %v on a Redis without maxmemory", g)
	}
	for _, kv := range [][2]string{{"maxmemory-policy", "allkeys-lru"}, {"maxmemory", "100mb"}} {
		if err := rc.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "broker_redis_evicts_any_key to turn 1", func() bool { return gauge() == 1 })
	time.Sleep(100 * time.Millisecond) // several more checks of the unchanged policy
	if n := strings.Count(ts.Logs.String(), `"level":"ERROR","msg":"redis: maxmemory is now set with an allkeys-*`); n != 1 {
		t.Errorf("the unsafe policy was logged %d times, want once; logs:\n%s", n, ts.Logs)
	}
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Errorf("mint on a replica whose Redis may evict: %d, want 200", code)
	}
	if err := rc.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "broker_redis_evicts_any_key to turn 0", func() bool { return gauge() == 0 })
}
