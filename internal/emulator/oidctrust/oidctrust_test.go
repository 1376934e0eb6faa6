package oidctrust_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

func TestVerify(t *testing.T) {
	iss := oidctest.Start(t)
	other := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	policy := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"sts.amazonaws.com"}, Algorithms: []string{"RS256"}}
	claims := map[string]any{"sub": "space:prod:stack:vpc:scope:read", "aud": "sts.amazonaws.com"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for key, val := range claims {
			c[key] = val
		}
		c[k] = v
		return c
	}
	good := iss.Sign(t, oidctest.Token{Claims: claims})
	general, flattened := oidctest.JSONSerialized(t, good)
	jsonPolicy := policy
	jsonPolicy.JSONSerialization = true
	cases := []struct {
		name   string
		token  string
		policy oidctrust.Policy
		want   error // nil: accepted
	}{
		{"good", good, policy, nil},
		{"the good token in the general JWS JSON serialization", general, policy, oidctrust.ErrMalformed},
		{"the good token in the flattened JWS JSON serialization", flattened, policy, oidctrust.ErrMalformed},
		{"the general JSON serialization where the policy takes it", general, jsonPolicy, nil},
		{"the flattened JSON serialization where the policy takes it", flattened, jsonPolicy, nil},
		{"aud as a list holding the allowed one", iss.Sign(t, oidctest.Token{Claims: with("aud", []string{"x", "sts.amazonaws.com"})}), policy, nil},
		{"wrong audience", iss.Sign(t, oidctest.Token{Claims: with("aud", "other")}), policy, oidctrust.ErrAudience},
		{"issuer not trusted", other.Sign(t, oidctest.Token{Claims: claims}), policy, oidctrust.ErrIssuer},
		{"issuer with a trailing slash", iss.Sign(t, oidctest.Token{Claims: with("iss", iss.URL+"/")}), policy, oidctrust.ErrIssuer},
		{"signed by an unpublished key", iss.Sign(t, oidctest.Token{Claims: claims, Rogue: true}), policy, oidctrust.ErrSignature},
		{"expired beyond skew", iss.Sign(t, oidctest.Token{Claims: claims, ExpiresIn: -10 * time.Minute}), policy, oidctrust.ErrExpired},
		{"not yet valid", iss.Sign(t, oidctest.Token{Claims: with("nbf", time.Now().Add(time.Hour).Unix())}), policy, oidctrust.ErrExpired},
		{"exp null", iss.Sign(t, oidctest.Token{Claims: with("exp", nil)}), policy, oidctrust.ErrMalformed},
		{"exp a string", iss.Sign(t, oidctest.Token{Claims: with("exp", "never")}), policy, oidctrust.ErrMalformed},
		{"nbf a string", iss.Sign(t, oidctest.Token{Claims: with("nbf", "now")}), policy, oidctrust.ErrMalformed},
		{"iat a bool", iss.Sign(t, oidctest.Token{Claims: with("iat", true)}), policy, oidctrust.ErrMalformed},
		{"aud a list holding a number", iss.Sign(t, oidctest.Token{Claims: with("aud", []any{"sts.amazonaws.com", 5})}), policy, oidctrust.ErrMalformed},
		{"aud a number", iss.Sign(t, oidctest.Token{Claims: with("aud", 5)}), policy, oidctrust.ErrMalformed},
		{"sub a number", iss.Sign(t, oidctest.Token{Claims: with("sub", 5)}), policy, oidctrust.ErrMalformed},
		{"jti an object", iss.Sign(t, oidctest.Token{Claims: with("jti", map[string]any{})}), policy, oidctrust.ErrMalformed},
		{"algorithm outside the allow-list", iss.Sign(t, oidctest.Token{Claims: claims, Alg: "ES256"}), policy, oidctrust.ErrAlgorithm},
		{"ES256 when allowed", iss.Sign(t, oidctest.Token{Claims: claims, Alg: "ES256"}),
			oidctrust.Policy{Issuer: iss.URL, Audiences: policy.Audiences, Algorithms: []string{"RS256", "ES256"}}, nil},
		{"not a JWT", "not.a.jwt", policy, oidctrust.ErrMalformed},
		{"unsigned alg none", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", policy, oidctrust.ErrAlgorithm},
		{"http issuer off loopback", iss.Sign(t, oidctest.Token{Claims: with("iss", "http://broker.example.com")}),
			oidctrust.Policy{Issuer: "http://broker.example.com", Audiences: policy.Audiences, Algorithms: policy.Algorithms}, oidctrust.ErrIssuer},
		{"discovery unreachable", iss.Sign(t, oidctest.Token{Claims: with("iss", "http://127.0.0.1:1")}),
			oidctrust.Policy{Issuer: "http://127.0.0.1:1", Audiences: policy.Audiences, Algorithms: policy.Algorithms}, oidctrust.ErrDiscovery},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token, tc.policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.String("sub") != claims["sub"] {
					t.Errorf("claims %v", got)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSignedBy: a token one published key verifies is signed by the issuer, in the compact
// serialization, or in the JSON serialization where the policy takes it; any other token is not.
func TestSignedBy(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	compactOnly := oidctrust.Policy{Issuer: iss.URL, Algorithms: []string{"RS256"}}
	withJSON := compactOnly
	withJSON.JSONSerialization = true
	good := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "vault"}})
	general, flattened := oidctest.JSONSerialized(t, good)
	for _, tc := range []struct {
		name   string
		token  string
		policy oidctrust.Policy
		want   bool
	}{
		{"compact", good, compactOnly, true},
		{"general JSON serialization", general, compactOnly, false},
		{"flattened JSON serialization", flattened, compactOnly, false},
		{"general JSON serialization, taken", general, withJSON, true},
		{"flattened JSON serialization, taken", flattened, withJSON, true},
		{"signed by an unpublished key", iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s"}, Rogue: true}), withJSON, false},
		{"algorithm outside the allow-list", iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s"}, Alg: "ES256"}), withJSON, false},
		{"not a JWT", "not.a.jwt", withJSON, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.SignedBy(context.Background(), tc.token, tc.policy)
			if err != nil || got != tc.want {
				t.Errorf("SignedBy = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestVerifyFarFutureDates: a token not valid before a date far in the future, or issued then,
// is refused as not yet valid however far that date lies, also past what an int64 count of
// seconds holds.
func TestVerifyFarFutureDates(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	policy := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"sts.amazonaws.com"}, Algorithms: []string{"RS256"}}
	for _, tc := range []struct {
		name  string
		claim string
		value float64
	}{
		{"nbf 1e19", "nbf", 1e19},
		{"iat 1e19", "iat", 1e19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "sts.amazonaws.com", tc.claim: tc.value}})
			_, err := v.Verify(context.Background(), tok, policy)
			if !errors.Is(err, oidctrust.ErrExpired) {
				t.Errorf("%s = %g (far in the future): Verify = %v, want ErrExpired (not yet valid)", tc.claim, tc.value, err)
			}
		})
	}
}

// TestVerifyLifetimeBeyondDuration: MaxLifetime refuses a lifetime longer than a time.Duration
// holds (1e10 s).
func TestVerifyLifetimeBeyondDuration(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	policy := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"},
		RequireIat: true, MaxLifetime: 48 * time.Hour}
	iat := float64(1_700_000_000)
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iat": iat, "nbf": iat, "exp": iat + 1e10}})
	_, err := v.Verify(context.Background(), tok, policy)
	if !errors.Is(err, oidctrust.ErrLifetime) {
		t.Errorf("exp 1e10 s after iat: Verify = %v, want ErrLifetime", err)
	}
}
