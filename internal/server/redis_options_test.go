package server

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
)

// TestRedisOptions checks how store.redis becomes the client's options: a URL passes as is,
// with the user and password file beside it as its login; for Sentinel and Cluster the
// password files are read without their final newline, TLS is turned
// on by tls: true, and a password file that is unsafe, missing or empty is refused without its
// content in the error.
func TestRedisOptions(t *testing.T) {
	pw := writeSecretFile(t, "s3cret-pw\n")
	spw := writeSecretFile(t, "sentinel-pw")
	got, err := redisOptions(&config.Redis{URL: "redis://127.0.0.1:6379/0"})
	if err != nil || got.URL != "redis://127.0.0.1:6379/0" || got.Sentinel != nil || got.Cluster != nil || got.URLAuth != (redisstore.Auth{}) {
		t.Errorf("url: %+v, %v", got, err)
	}
	got, err = redisOptions(&config.Redis{URL: "rediss://redis.example.com:6379/0", Username: "broker", PasswordFile: pw})
	if err != nil || got.URLAuth.Username != "broker" || got.URLAuth.Password != "s3cret-pw" || got.URLAuth.TLS != nil {
		t.Errorf("url with username and password_file: %+v, %v", got, err)
	}

	got, err = redisOptions(&config.Redis{
		Sentinel: &config.RedisSentinel{Master: "m", Addrs: []string{"s:26379"}, DB: 3, PasswordFile: spw},
		Username: "broker", PasswordFile: pw, TLS: true,
	})
	if err != nil || got.Sentinel == nil {
		t.Fatalf("sentinel: %+v, %v", got, err)
	}
	s := got.Sentinel
	if s.Master != "m" || !slices.Equal(s.Addrs, []string{"s:26379"}) || s.DB != 3 || s.Username != "broker" ||
		s.Password != "s3cret-pw" || s.SentinelPassword != "sentinel-pw" || s.TLS == nil {
		t.Errorf("sentinel options: %+v", s)
	}

	got, err = redisOptions(&config.Redis{Cluster: &config.RedisCluster{Addrs: []string{"a:1", "b:2"}}})
	if err != nil || got.Cluster == nil || got.Cluster.Password != "" || got.Cluster.TLS != nil ||
		!slices.Equal(got.Cluster.Addrs, []string{"a:1", "b:2"}) {
		t.Errorf("cluster without password or TLS: %+v, %v", got, err)
	}

	open := filepath.Join(t.TempDir(), "open")
	if err := os.WriteFile(open, []byte("s3cret-pw"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"readable by others": open,
		"missing":            filepath.Join(t.TempDir(), "none"),
		"empty":              writeSecretFile(t, "\n"),
	} {
		_, err := redisOptions(&config.Redis{Cluster: &config.RedisCluster{Addrs: []string{"a:1"}}, PasswordFile: path})
		if err == nil || !strings.Contains(err.Error(), "store.redis.password_file") || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s password file: %v; want an error naming store.redis.password_file, without the password", name, err)
		}
	}
}
