package config

import (
	"strings"
	"testing"
)

// TestRedisURLNeedsTLSOffLoopback refuses store.redis.url with plain redis:// to a host that is
// not loopback (the Redis password and every run record would cross the network in clear), and
// names the host, never the password; rediss:// anywhere and redis:// on loopback are accepted.
func TestRedisURLNeedsTLSOffLoopback(t *testing.T) {
	src := func(u string) string {
		return iss + "store: {redis: {url: \"" + u + "\"}}\nkeys: {backend: file, dir: /k}\n"
	}
	for _, tc := range []struct{ url, host string }{
		{"redis://redis.internal:6379/0", "redis.internal"},
		{"redis://:s3cret-pw@10.0.0.7:6379/0", "10.0.0.7"},
		{"redis://broker:s3cret-pw@[2001:db8::1]:6379", "2001:db8::1"},
		{"redis://0.0.0.0:6379", "0.0.0.0"},
		{"redis://127.0.0.1.example.com:6379", "127.0.0.1.example.com"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(src(tc.url)))
			want := `store.redis.url: redis:// to "` + tc.host + `" is plain text; use rediss:// (TLS) off a loopback host`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Parse() = %v, want %s", err, want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error echoes the password: %v", err)
			}
		})
	}
	for _, u := range []string{"rediss://broker:pw@redis.internal:6379/0", "rediss://10.0.0.7", "redis://127.0.0.1:6379/0",
		"redis://localhost:6379", "redis://[::1]:6379/1", "redis://127.8.9.10", "redis:///0"} {
		t.Run(u, func(t *testing.T) {
			if _, err := Parse("t.yaml", []byte(src(u))); err != nil {
				t.Errorf("Parse() = %v, want it accepted", err)
			}
		})
	}
}

// TestRedisURLKeepsTLSVerifyOffLoopback refuses skip_verify on store.redis.url off loopback: a
// TLS link whose certificate is not checked lets anyone on the path stand in for Redis.
func TestRedisURLKeepsTLSVerifyOffLoopback(t *testing.T) {
	src := func(u string) string {
		return iss + "store: {redis: {url: \"" + u + "\"}}\nkeys: {backend: file, dir: /k}\n"
	}
	const want = "store.redis.url: skip_verify turns off the check of Redis's TLS certificate"
	for _, u := range []string{"rediss://redis.internal:6379/0?skip_verify=true", "rediss://10.0.0.7?skip_verify=1",
		"rediss://10.0.0.7?skip_verify=false&skip_verify=true", "rediss://10.0.0.7?skip_verify=yes"} {
		t.Run(u, func(t *testing.T) {
			if _, err := Parse("t.yaml", []byte(src(u))); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Parse() = %v, want %s", err, want)
			}
		})
	}
	for _, u := range []string{"rediss://redis.internal:6379/0?skip_verify=false", "rediss://10.0.0.7?skip_verify=0",
		"rediss://10.0.0.7?skip_verify=true&skip_verify=false", "rediss://127.0.0.1?skip_verify=true", "rediss://localhost?skip_verify=1"} {
		t.Run(u, func(t *testing.T) {
			if _, err := Parse("t.yaml", []byte(src(u))); err != nil {
				t.Errorf("Parse() = %v, want it accepted", err)
			}
		})
	}
}

// TestRedisURLDatabaseNotNegative: store.redis.url names a database of 0 or more, in its path
// or in its db option, as store.redis.sentinel.db must. go-redis takes "/-1" or "?db=-1"
// without a word and, since it selects only a database above 0, runs on database 0, shared
// with whatever else uses it; a db option that is no number would stop start-up after the file
// was accepted.
func TestRedisURLDatabaseNotNegative(t *testing.T) {
	withURL := func(u string) string {
		return "keys: {backend: redis, redis: {encryption_key_env: BROKER_KEY}}\n" +
			"store: {redis: {url: \"" + u + "\"}}\n"
	}
	checkEdges(t, []edgeCase{
		{"database -1 in the path", withURL("rediss://r.example.com/-1"), "store.redis.url"},
		{"database -1 in the query", withURL("rediss://r.example.com/0?db=-1"), "store.redis.url"},
		{"database a word in the query", withURL("rediss://r.example.com?db=x"), "store.redis.url"},
		{"database 3 in the path", withURL("rediss://r.example.com/3"), ""},
		{"database 2 in the query", withURL("rediss://r.example.com?db=2"), ""},
	})
}
