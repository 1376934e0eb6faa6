package loadgen

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// unsignedJWS is a compact JWS whose protected header is header and whose signature part
// is empty: a token nobody signed.
func unsignedJWS(header string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(`{"sub":"bench"}`)) + "."
}

// TestTokenCheckNeedsASignedJWS: an answer counts toward a token rate only when its "token"
// member is a signed compact JWS (three non-empty dot-separated parts): a 200 answer whose
// token has no signature, lacks a part, or is the bare prefix "ey" is an error, so that a
// server that skips the signature cannot inflate the rate set against raw signing.
func TestTokenCheckNeedsASignedJWS(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"empty signature", `{"token":"` + unsignedJWS(`{"alg":"RS256"}`) + `"}`},
		{"two parts", `{"token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9"}`},
		{"bare prefix", `{"token":"ey","expiresAt":"2030-01-01T00:00:00Z"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := expectToken(200, []byte(c.body)); err == nil {
				t.Errorf("expectToken accepted %s", c.body)
			}
		})
	}
	if err := expectToken(200, []byte(tokenAnswer)); err != nil {
		t.Errorf("a signed token answer: %v", err)
	}
}

// TestUnsignedTargetPassesNoTokenRate: a token rate is judged against raw signing only when
// every answer held a signed token: a loopback target that answers 200 with RS256 tokens whose
// signature is empty (it signs nothing) has its token figure reported as an error, never as a
// pass far above the raw signing rate.
func TestUnsignedTargetPassesNoTokenRate(t *testing.T) {
	b := startFakeTarget(t, fakeTarget{
		token: unsignedJWS(`{"alg":"RS256","kid":"k"}`), algs: []string{keys.RS256},
	})
	s := targetSuite(t, b, 40*time.Millisecond)
	s.runTarget(context.Background(), placeOf("https://127.0.0.1:1")) // https: no nginx
	f := s.fig("token_rs256_target")
	f.Judge()
	if f.Status != StatusError {
		t.Errorf("token_rs256_target: %s, ratio %.2f (%q); want an error: no token was signed",
			f.Status, f.Ratio, f.Detail)
	}
}
