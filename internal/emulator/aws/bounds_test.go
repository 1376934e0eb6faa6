package awsemu

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDurationSecondsUpperBoundInclusive pins STS's DurationSeconds range 900..43200 at its top:
// 43200 passes parameter validation, 43201 fails it.
// Guards against: internal/emulator/aws/params.go:116 "n > maxDurationSeconds" -> ">="
func TestDurationSecondsUpperBoundInclusive(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"43200", true}, {"43201", false}, {"900", true}, {"899", false}} {
		var v validation
		v.duration(url.Values{"DurationSeconds": {tc.value}})
		if got := v.err() == nil; got != tc.ok {
			t.Errorf("DurationSeconds=%s: valid=%v, want %v (%v)", tc.value, got, tc.ok, v.err())
		}
	}
}

// TestHostMustBeSigned pins that a SigV4 request whose SignedHeaders leave out host is refused 400
// IncompleteSignature, however well the rest is signed.
// Guards against: internal/emulator/aws/sigv4.go:136 dropping the signed-host check
func TestHostMustBeSigned(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	status, body := handSigned(t, f, assumeParams(externalID), now.Format("20060102"), now.Format(amzDateFormat), []string{"content-type", "x-amz-date"})
	if status != http.StatusBadRequest {
		t.Fatalf("host not signed: status %d, want 400: %s", status, body)
	}
	if e := decodeError(t, body); e.Error.Code != "IncompleteSignature" {
		t.Errorf("host not signed: code %q, want IncompleteSignature", e.Error.Code)
	}
}

// TestCredentialScopeTerminator pins that a Credential whose scope does not end in aws4_request is
// refused as IncompleteSignature.
// Guards against: internal/emulator/aws/sigv4.go:132 dropping "cred[4] != sigV4Terminator"
func TestCredentialScopeTerminator(t *testing.T) {
	for _, term := range []string{"aws4_request", "aws4_requesx", "aws5_request"} {
		h := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/sts/%s, SignedHeaders=host;x-amz-date, Signature=abcd", accessKey, term)
		_, err := parseAuthorization(h)
		if want := term == "aws4_request"; (err == nil) != want {
			t.Errorf("terminator %q: err = %v, want accepted=%v", term, err, want)
		}
		if err != nil && err.code != "IncompleteSignature" {
			t.Errorf("terminator %q: code %q, want IncompleteSignature", term, err.code)
		}
	}
}

// TestTagKeyLength pins the session tag key length bound: 128 characters pass, 129 do not.
// Guards against: internal/emulator/aws/params.go:156 "length(key) <= 128" -> "<= 129"
func TestTagKeyLength(t *testing.T) {
	if err := checkTag(strings.Repeat("k", 128), "v"); err != nil {
		t.Errorf("128-character key refused: %v", err)
	}
	if err := checkTag(strings.Repeat("k", 129), "v"); err == nil {
		t.Error("129-character key accepted")
	}
	if _, _, err := parseAWSTags(map[string]any{"principal_tags": map[string]any{strings.Repeat("k", 129): []any{"v"}}}); err == nil {
		t.Error("web identity token tag with a 129-character key accepted")
	}
}

// TestFiftyTransitiveKeysTaken pins that AssumeRole takes up to 50 transitive tag keys (50 pass, 51
// are a ValidationError).
// Guards against: internal/emulator/aws/params.go:279 "len(keys) > maxSessionTags" -> ">="
func TestFiftyTransitiveKeysTaken(t *testing.T) {
	for _, n := range []int{50, 51} {
		p := url.Values{}
		tags := map[string]string{}
		for i := 1; i <= n; i++ {
			k := fmt.Sprintf("key%d", i)
			tags[k] = "v"
			p.Set(fmt.Sprintf("TransitiveTagKeys.member.%d", i), k)
		}
		_, err := parseQueryTransitive(p, tags)
		if ok := err == nil; ok != (n <= maxSessionTags) {
			t.Errorf("%d transitive keys: err = %v", n, err)
		}
	}
}

// TestSessionExpiresAtItsExpiration pins that issued credentials stop working at their Expiration
// instant itself (403 ExpiredToken), and work the nanosecond before.
// Guards against: internal/emulator/aws/sessions.go:56 "!now.Before(s.expires)" ->
// "now.After(s.expires)"
func TestSessionExpiresAtItsExpiration(t *testing.T) {
	var ss sessions
	now := time.Unix(1_700_000_000, 0)
	exp := now.Add(time.Hour)
	ss.add("ASIAEXPIRING", session{token: "tok", expires: exp}, now)
	if _, err := ss.lookup("ASIAEXPIRING", "tok", exp.Add(-time.Nanosecond)); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	_, err := ss.lookup("ASIAEXPIRING", "tok", exp)
	if err == nil || err.code != "ExpiredToken" || err.status != http.StatusForbidden {
		t.Errorf("at expiry: %+v, want 403 ExpiredToken", err)
	}
}
