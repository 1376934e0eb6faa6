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
	cases := []struct {
		name   string
		token  string
		policy oidctrust.Policy
		want   error // nil: accepted
	}{
		{"good", iss.Sign(t, oidctest.Token{Claims: claims}), policy, nil},
		{"aud as a list holding the allowed one", iss.Sign(t, oidctest.Token{Claims: with("aud", []string{"x", "sts.amazonaws.com"})}), policy, nil},
		{"wrong audience", iss.Sign(t, oidctest.Token{Claims: with("aud", "other")}), policy, oidctrust.ErrAudience},
		{"issuer not trusted", other.Sign(t, oidctest.Token{Claims: claims}), policy, oidctrust.ErrIssuer},
		{"issuer with a trailing slash", iss.Sign(t, oidctest.Token{Claims: with("iss", iss.URL+"/")}), policy, oidctrust.ErrIssuer},
		{"signed by an unpublished key", iss.Sign(t, oidctest.Token{Claims: claims, Rogue: true}), policy, oidctrust.ErrSignature},
		{"expired beyond skew", iss.Sign(t, oidctest.Token{Claims: claims, ExpiresIn: -10 * time.Minute}), policy, oidctrust.ErrExpired},
		{"not yet valid", iss.Sign(t, oidctest.Token{Claims: with("nbf", time.Now().Add(time.Hour).Unix())}), policy, oidctrust.ErrExpired},
		{"no exp", iss.Sign(t, oidctest.Token{Claims: with("exp", "never")}), policy, oidctrust.ErrMalformed},
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
