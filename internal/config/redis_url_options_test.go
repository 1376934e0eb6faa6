package config

import (
	"strings"
	"testing"
)

// TestRedisURLOptionsValidated: a store.redis.url that `broker serve` cannot open (an option
// the Redis client does not know, or an option value it cannot read) is a problem Validate
// reports, so that a file passing validation (or a SIGHUP reload, which only says that store
// changed) does not fail the next start; the URL's password is never quoted. Options the
// client reads pass.
func TestRedisURLOptionsValidated(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cret-pw@127.0.0.1:6379/0?foo=bar",
		"redis://:s3cret-pw@127.0.0.1:6379/0?dial_timeout=soon",
		"redis://:s3cret-pw@127.0.0.1:6379/0?max_retries=many",
	} {
		t.Run(u, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(redisURLConfig(u)))
			if err == nil || !strings.Contains(err.Error(), "store.redis.url") {
				t.Fatalf("Parse() = %v, want a problem at store.redis.url", err)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error echoes the password: %v", err)
			}
		})
	}
	good := "redis://:s3cret-pw@127.0.0.1:6379/0?dial_timeout=5s&client_name=broker&db=1"
	if _, err := Parse("t.yaml", []byte(redisURLConfig(good))); err != nil {
		t.Errorf("Parse(%s) = %v, want it accepted", good, err)
	}
}

// redisURLConfig is a configuration whose store.redis.url is u.
func redisURLConfig(u string) string {
	return iss + "store: {redis: {url: \"" + u + "\"}}\nkeys: {backend: file, dir: /k}\n"
}
