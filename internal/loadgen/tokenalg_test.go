package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// childSuite is a suite planned for servers the program starts (not --target), measuring each
// figure for d.
func childSuite(t *testing.T, d time.Duration) *suite {
	t.Helper()
	return testSuite(t, Config{Duration: d, Clients: 4})
}

// TestTokenRateNeedsTokensOfItsAlg checks that a token rate set against raw signing of one
// algorithm counts only tokens signed with that algorithm: a server answering ES256 tokens, far
// faster than RSA signing, never passes the RS256 bar, as the ratio would compare unlike work.
func TestTokenRateNeedsTokensOfItsAlg(t *testing.T) {
	b := startFakeTarget(t, fakeTarget{
		token: fakeJWS(`{"alg":"ES256","kid":"k"}`), algs: []string{keys.RS256},
	})
	s := childSuite(t, 200*time.Millisecond)
	f := s.fig("token_rs256_memory")
	measure(f, func() error {
		_, err := s.tokenRate(context.Background(), b, keys.RS256, f)
		return err
	})
	f.Judge()
	if f.Status == StatusPass {
		t.Errorf("token_rs256_memory: pass at ratio %.2f (%s) on tokens that are not RS256",
			f.Ratio, f.Detail)
	}
}

// TestExpectTokenOf checks that a token answer counts for alg only when the token's header
// names alg and its signature has alg's size (64 bytes for ES256, at least 256 for RS256).
func TestExpectTokenOf(t *testing.T) {
	answer := func(tok string) []byte { return []byte(`{"token":"` + tok + `","expiresAt":"x"}`) }
	short := fakeJWS(`{"alg":"RS256","kid":"k"}`)
	short = short[:strings.LastIndexByte(short, '.')] + ".c2ln"
	for _, tc := range []struct {
		name, alg, tok string
		ok             bool
	}{
		{"an RS256 token", keys.RS256, fakeJWS(`{"alg":"RS256","kid":"k"}`), true},
		{"an ES256 token", keys.ES256, fakeJWS(`{"alg":"ES256","kid":"k"}`), true},
		{"an ES256 token counted as RS256", keys.RS256, fakeJWS(`{"alg":"ES256","kid":"k"}`), false},
		{"an RS256 header on a short signature", keys.RS256, short, false},
	} {
		err := expectTokenOf(tc.alg)(200, answer(tc.tok))
		if (err == nil) != tc.ok {
			t.Errorf("%s: expectTokenOf(%s) = %v, want ok %v", tc.name, tc.alg, err, tc.ok)
		}
	}
}
