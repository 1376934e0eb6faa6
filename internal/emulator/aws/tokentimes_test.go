package awsemu

import (
	"net/http"
	"testing"
	"time"
)

// TestTokenTimes: STS takes a web identity token from its nbf (with skew) until its exp, with
// no skew after exp ("Token expired: current date/time N must be before the expiration
// date/time M", seen 198 s past exp), and no longer than a day after its iat whatever its exp
// ("Token too old: <age>", seen at 1.8 and 5 days). Both refusals are 400
// ExpiredTokenException.
func TestTokenTimes(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Unix()
	for _, tc := range []struct {
		name          string
		iat, exp      int64
		code, message string // code "" means credentials
	}{
		{"valid", now - 60, now + 3600, "", ""},
		{"a day old, not expired", now - 86400 + 60, now + 3600, "", ""},
		{"1 s past exp", now - 3600, now - 1, "ExpiredTokenException", "must be before the expiration date/time"},
		{"198 s past exp", now - 3600, now - 198, "ExpiredTokenException", "must be before the expiration date/time"},
		{"issued 153938 s ago", now - 153938, now + 3600, "ExpiredTokenException", "Token too old: 1539"},
		{"issued 441398 s ago", now - 441398, now + 3600, "ExpiredTokenException", "Token too old: 4413"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := f.token(t, map[string]any{"iat": tc.iat, "nbf": tc.iat, "exp": tc.exp})
			status, body := f.post(t, webIdentity(tok))
			want := http.StatusOK
			if tc.code != "" {
				want = http.StatusBadRequest
			}
			expectAnswer(t, status, body, want, tc.code, tc.message)
		})
	}
}

// TestFarFutureNotBefore: a token not valid before a date beyond any clock's reach (nbf 1e19,
// past what an int64 count of seconds holds) is not valid now.
func TestFarFutureNotBefore(t *testing.T) {
	f := newFixture(t)
	status, body := f.post(t, webIdentity(f.token(t, map[string]any{"nbf": 1e19})))
	if status == http.StatusOK {
		t.Errorf("a token with nbf 1e19 got credentials: %d %.200s", status, body)
	}
}
