package oidctrust_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestTimeBoundaries: each time rule holds at its bound, one second past it, on a fixed
// clock: 5 minutes of skew and no more on exp, nbf and iat; none on exp under StrictExp; MaxAge
// and MaxLifetime (exp must be less than MaxLifetime after iat) to the second; and no Audiences
// without UnboundAudience takes no token, not even one without aud.
func TestTimeBoundaries(t *testing.T) {
	iss := oidctest.Start(t)
	now := time.Unix(1_700_000_000, 0)
	v := &oidctrust.Verifier{Now: func() time.Time { return now }}
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	base := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	with := func(edit func(*oidctrust.Policy)) oidctrust.Policy {
		p := base
		edit(&p)
		return p
	}
	strict := with(func(p *oidctrust.Policy) { p.StrictExp = true })
	maxAge := with(func(p *oidctrust.Policy) { p.MaxAge = 24 * time.Hour })
	lifetime := with(func(p *oidctrust.Policy) { p.RequireIat = true; p.MaxLifetime = 48 * time.Hour })
	noAudiences := with(func(p *oidctrust.Policy) { p.Audiences = nil })
	times := func(iat, nbf, exp int64) map[string]any {
		return map[string]any{"sub": "s", "aud": "a", "iat": iat, "nbf": nbf, "exp": exp}
	}
	hourAgo := at(-time.Hour)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		policy oidctrust.Policy
		want   error // nil: accepted
	}{
		{"exp 300 s ago, within the skew", times(hourAgo, hourAgo, at(-300*time.Second)), base, nil},
		{"exp 301 s ago, past the skew", times(hourAgo, hourAgo, at(-301*time.Second)), base, oidctrust.ErrExpired},
		{"nbf 300 s ahead, within the skew", times(hourAgo, at(300*time.Second), at(time.Hour)), base, nil},
		{"nbf 301 s ahead, past the skew", times(hourAgo, at(301*time.Second), at(time.Hour)), base, oidctrust.ErrExpired},
		{"iat 300 s ahead, within the skew", times(at(300*time.Second), hourAgo, at(time.Hour)), base, nil},
		{"iat 301 s ahead, past the skew", times(at(301*time.Second), hourAgo, at(time.Hour)), base, oidctrust.ErrExpired},
		{"StrictExp: exp 1 s ahead", times(hourAgo, hourAgo, at(time.Second)), strict, nil},
		{"StrictExp: exp now", times(hourAgo, hourAgo, at(0)), strict, oidctrust.ErrExpired},
		{"MaxAge: issued exactly 24h ago", times(at(-24*time.Hour), hourAgo, at(time.Hour)), maxAge, nil},
		{"MaxAge: issued 24h and 1 s ago", times(at(-24*time.Hour-time.Second), hourAgo, at(time.Hour)), maxAge, oidctrust.ErrTooOld},
		{"MaxLifetime: exp 48h less 1 s after iat", times(at(-time.Minute), hourAgo, at(48*time.Hour-time.Minute-time.Second)), lifetime, nil},
		{"MaxLifetime: exp exactly 48h after iat", times(at(-time.Minute), hourAgo, at(48*time.Hour-time.Minute)), lifetime, oidctrust.ErrLifetime},
		{"no Audiences, token without aud", map[string]any{"sub": "s", "iat": hourAgo, "nbf": hourAgo, "exp": at(time.Hour)}, noAudiences, oidctrust.ErrAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.Sign(t, oidctest.Token{Claims: tc.claims}), tc.policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestKeysAndDiscovery: the kid names the one key tried; a discovery document is used only
// from a 200 answer and only when it names the token's issuer, exactly as the token does.
func TestKeysAndDiscovery(t *testing.T) {
	v := &oidctrust.Verifier{}
	good := oidctest.Start(t)
	notFound := oidctest.Start(t)
	notFound.DiscoveryStatus = http.StatusNotFound
	impostor := oidctest.Start(t)
	impostor.DiscoveryIssuer = "https://issuer.example"
	for _, tc := range []struct {
		name string
		iss  *oidctest.Issuer
		kid  string // "": the signing key's own
		want error  // nil: accepted
	}{
		{"kid of the published key", good, "", nil},
		{"kid naming no published key, signed by one", good, "rsa-2", oidctrust.ErrSignature},
		{"discovery answers 404 with a good document", notFound, "", oidctrust.ErrDiscovery},
		{"discovery names another issuer", impostor, "", oidctrust.ErrDiscovery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := oidctrust.Policy{Issuer: tc.iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
			token := tc.iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}, KeyID: tc.kid})
			_, err := v.Verify(context.Background(), token, policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
