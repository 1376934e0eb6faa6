package config

import (
	"strings"
	"testing"
)

// TestRedisURLPasswordWithSlashNeverQuoted pins that no problem of store.redis.url
// repeats any part of a password written into it, also when the password holds '/' or "://":
// such a URL may still parse, with the login's head taken for the host and its tail for the
// database path: it is refused, quoting neither. The same password percent-encoded is taken.
func TestRedisURLPasswordWithSlashNeverQuoted(t *testing.T) {
	const head, tail = "Zx9hd", "Qw7tl"
	for _, url := range []string{
		"redis://admin:" + head + "/" + tail + "@10.0.0.1:6379",
		"rediss://admin:" + head + "/" + tail + "@redis.example.com:6379",
		"rediss://admin:/" + tail + "@redis.example.com:6379",
		"redis://admin:4821/" + tail + "@10.0.0.1:6379",
		"rediss://admin:" + head + "://" + tail + "@redis.example.com:6379",
	} {
		doc := edgeIssuer + "keys: {backend: file, dir: /k}\nstore:\n  redis: {url: \"" + url + "\"}\n"
		err := parseText(doc)
		if err == nil || !strings.Contains(err.Error(), "store.redis.url") {
			t.Errorf("%s: %v; want a problem with store.redis.url", url, err)
			continue
		}
		if s := err.Error(); strings.Contains(s, head) || strings.Contains(s, tail) {
			t.Errorf("%s: the error repeats the password: %s", url, s)
		}
	}
	encoded := edgeIssuer + "keys: {backend: file, dir: /k}\nstore:\n  redis: {url: \"rediss://admin:" + head + "%2F" + tail + "@redis.example.com:6379/2\"}\n"
	if err := parseText(encoded); err != nil {
		t.Errorf("a percent-encoded '/' in the password: %v", err)
	}
}

// TestBareLoginWithSchemeMarkRedacted pins that a login written before a host:port
// without a scheme is redacted whole, also when the password holds "://": the part before
// "://" is a scheme only when it is one (letters, digits, '+', '.', '-').
func TestBareLoginWithSchemeMarkRedacted(t *testing.T) {
	const secret = "Zx9hd"
	if got := RedactLogins("admin:" + secret + "://x@10.0.0.1:26379"); strings.Contains(got, secret) {
		t.Errorf("RedactLogins kept the password: %s", got)
	}
	if got := redactURL("admin:" + secret + "://x@10.0.0.1:26379"); strings.Contains(got, secret) {
		t.Errorf("redactURL kept the password: %s", got)
	}
	doc := edgeIssuer + "keys: {backend: file, dir: /k}\nstore:\n  redis:\n    tls: true\n" +
		"    sentinel: {master: m, addrs: [\"admin:" + secret + "://x@10.0.0.1:26379\"]}\n"
	if err := parseText(doc); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("sentinel address with a login: want a problem not repeating the password, got %v", err)
	}
}
