package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestWithoutURLWithholdsURLErrors checks that WithoutURL replaces an error that is or wraps
// a *url.Error, whose text quotes the URL and so its password, by ErrURLWithheld, and returns
// any other error as it is.
// Guards against: WithoutURL returning err unchanged
func TestWithoutURLWithholdsURLErrors(t *testing.T) {
	const secret = "s3cret-pw"
	ue := &url.Error{Op: "parse", URL: "https://admin:" + secret + "@vault.example.com:x",
		Err: errors.New("invalid port")}
	other := errors.New("no such file")
	for _, tc := range []struct {
		name    string
		in, out error
	}{
		{"a url.Error", ue, ErrURLWithheld},
		{"a wrapped url.Error", fmt.Errorf("reading VAULT_ADDR: %w", ue), ErrURLWithheld},
		{"another error", other, other},
	} {
		got := WithoutURL(tc.in)
		if got != tc.out {
			t.Errorf("%s: WithoutURL = %v, want %v", tc.name, got, tc.out)
		}
		if got != nil && strings.Contains(got.Error(), secret) {
			t.Errorf("%s: WithoutURL = %v, quotes the password", tc.name, got)
		}
	}
}

// TestBadRotationPeriodReportedOnce checks that a rotation period that is not positive
// (possible only in a Config built in code) is one problem, at keys.rotation.period: the
// prepublish is not also refused as not shorter than it.
// Guards against: `r.Period > 0 &&` dropped from the prepublish check in validate.go:checkKeys
func TestBadRotationPeriodReportedOnce(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com"}
	c.ApplyDefaults()
	c.Keys.Rotation.Period = -time.Hour
	err := c.Validate()
	if problemAt(err, "keys.rotation.period") == nil {
		t.Fatalf("negative rotation period accepted: %v", err)
	}
	if fe := problemAt(err, "keys.rotation.prepublish"); fe != nil {
		t.Errorf("prepublish also refused for the bad period: %v", fe)
	}
}

// TestRedisURLEmptySkipVerifyKeepsTLSCheck checks that skip_verify given empty off a
// loopback host is accepted: go-redis reads an empty value as false, so the certificate is
// still checked.
// Guards against: skipsTLSVerify taking an empty value for on
func TestRedisURLEmptySkipVerifyKeepsTLSCheck(t *testing.T) {
	checkEdges(t, []edgeCase{
		{"empty skip_verify", "keys: {backend: file, dir: /k}\n" +
			"store: {redis: {url: \"rediss://10.0.0.7:6380/0?skip_verify=\"}}\n", ""},
	})
}

// TestRedisURLWithoutSlashesRefused checks that a redis URL missing its "//" but holding
// a login (redis:user:password@host) is refused without quoting it: the parser takes it all
// for an opaque part, so go-redis would dial localhost with no password, and the login sits in
// the text.
// Guards against: `u.User == nil ||` dropped from validate_redis.go:atOutsideLogin
func TestRedisURLWithoutSlashesRefused(t *testing.T) {
	const secret = "s3cret-pw"
	err := parseText(edgeIssuer + "keys: {backend: file, dir: /k}\n" +
		"store: {redis: {url: \"redis:admin:" + secret + "@10.0.0.7:6379/0\"}}\n")
	if problemAt(err, "store.redis.url") == nil {
		t.Fatalf("redis URL without \"//\" accepted: %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error quotes the password: %v", err)
	}
}

// TestVaultPathsOfManySegments checks that the mounts and namespaces of Vault (the
// Transit key backend's and an integration's) may have any number of '/'-separated segments,
// and slashes around them, as Vault Enterprise nests namespaces.
// Guards against: transitMountPattern taking at most two segments
// Guards against: keys.vault_transit.namespace checked without trimming its slashes
// Guards against: an integration's vault.mount or vault.namespace checked without trimming
// its slashes
func TestVaultPathsOfManySegments(t *testing.T) {
	transit := func(extra string) string {
		return "keys: {backend: vault-transit, vault_transit: " +
			"{address: \"https://vault.example.com\", " +
			"key: broker, " + extra + "}}\n"
	}
	vault := func(extra string) string {
		return "integrations:\n  - id: v\n    space: root\n" +
			"    vault: {address: \"https://vault.example.com\", role: dev, " + extra + "}\n"
	}
	checkEdges(t, []edgeCase{
		{"transit mount of three segments", transit("mount: org/team/transit"), ""},
		{"transit namespace with slashes around",
			transit("mount: transit, namespace: /eng/platform/"), ""},
		{"vault mount of three segments", vault("mount: org/team/jwt"), ""},
		{"vault mount with slashes around", vault("mount: /jwt/"), ""},
		{"vault namespace with slashes around", vault("namespace: /eng/platform/"), ""},
	})
}

// TestIPv6IssuerRefusedForAssumeRoleOnly checks that an issuer named by an IPv6 literal is
// refused only for AWS assume-role, whose ExternalId begins with the issuer's host: a
// web-identity integration sends no ExternalId and works with it.
// Guards against: the IPv6-issuer check applied to every AWS mode in integrations.go:checkAWS
func TestIPv6IssuerRefusedForAssumeRoleOnly(t *testing.T) {
	aws := func(mode string) string {
		return "issuer: \"https://[2001:db8::1]:8443\"\n" +
			"integrations:\n  - id: a\n    space: root\n" +
			"    aws: {mode: " + mode + ", role_arn: \"arn:aws:iam::123456789012:role/r\"}\n"
	}
	checkEdges(t, []edgeCase{
		{"web-identity", aws("web-identity"), ""},
		{"assume-role", aws("assume-role"), "integrations[0].aws.mode"},
	})
}
