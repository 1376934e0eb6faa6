package server

import (
	"crypto/tls"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestRedisTLSAtLeast12: tls: true for Sentinel or Cluster turns on TLS 1.2 or later,
// never an older version.
// Guards against: backends.go:redisOptions TLS minimum version lowered
func TestRedisTLSAtLeast12(t *testing.T) {
	got, err := redisOptions(&config.Redis{TLS: true,
		Cluster: &config.RedisCluster{Addrs: []string{"a:1"}}})
	if err != nil || got.Cluster == nil || got.Cluster.TLS == nil {
		t.Fatalf("cluster with tls: %+v, %v", got, err)
	}
	if v := got.Cluster.TLS.MinVersion; v < tls.VersionTLS12 {
		t.Errorf("TLS minimum version %#x, want at least TLS 1.2", v)
	}
}

// TestRedisPasswordFileWithCRLF: a password file written with a CRLF line ending gives
// the password without the CR and LF, for the data and the Sentinel passwords alike.
// Guards against: backends.go:readPassword trims the final LF only
func TestRedisPasswordFileWithCRLF(t *testing.T) {
	pw := writeSecretFile(t, "s3cret-pw\r\n")
	spw := writeSecretFile(t, "sentinel-pw\r\n")
	got, err := redisOptions(&config.Redis{PasswordFile: pw,
		Sentinel: &config.RedisSentinel{Master: "m", Addrs: []string{"s:1"}, PasswordFile: spw}})
	if err != nil || got.Sentinel == nil {
		t.Fatalf("sentinel: %+v, %v", got, err)
	}
	if got.Sentinel.Password != "s3cret-pw" || got.Sentinel.SentinelPassword != "sentinel-pw" {
		t.Errorf("passwords %q and %q, want s3cret-pw and sentinel-pw",
			got.Sentinel.Password, got.Sentinel.SentinelPassword)
	}
}
