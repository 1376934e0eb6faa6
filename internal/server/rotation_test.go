package server

import (
	"context"
	"crypto"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestRotationNeverStrandsAToken runs a replica on an injected clock through four rotation
// periods and checks, at every step, what a relying party caching the JWKS would see:
//   - a token minted at t verifies against the JWKS fetched at t - prepublish (the next key was
//     already published then);
//   - it still verifies against the JWKS fetched when the token expires (retain >= ttl);
//   - a key that stopped signing leaves the JWKS retain (and the replicas' linger) after, and not
//     before.
//
// With ES256 configured, tokens for Entra ID's audience are RS256 (the only algorithm Entra
// accepts) and others ES256, and both key chains keep these properties.
func TestRotationNeverStrandsAToken(t *testing.T) {
	for alg, audiences := range map[string]map[string]string{
		"RS256": {"aud": "RS256"},
		"ES256": {"aud": "ES256", "sts.amazonaws.com": "ES256", "api://AzureADTokenExchange": "RS256"},
	} {
		t.Run(alg, func(t *testing.T) { rotationNeverStrands(t, alg, audiences) })
	}
}

// rotationNeverStrands is TestRotationNeverStrandsAToken for keys.algorithm alg, minting at
// every step a token for each audience and checking its header's alg against audiences.
func rotationNeverStrands(t *testing.T, alg string, audiences map[string]string) {
	const (
		period     = 10 * time.Minute
		prepublish = 2 * time.Minute
		retain     = 3 * time.Minute
		tokenTTL   = time.Minute
		step       = 10 * time.Second
	)
	linger := keys.Policy{Prepublish: prepublish}.Linger()
	total := 4*period + retain + linger
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start := clock.Now()
	ts := startServer(t, serverOptions{alg: alg, now: clock.Now, rotation: &rotationOptions{"10m", "2m", "3m", "1m"}})
	ctx := context.Background()

	jwksAt := map[time.Time]map[string]crypto.PublicKey{}
	var tokens []minted
	lastSigned := map[string]time.Time{}
	firstPublished := map[string]time.Time{}
	lastPublished := map[string]time.Time{}

	for now := start; !now.After(start.Add(total)); now = now.Add(step) {
		clock.Set(now)
		if _, err := ts.srv.Keys().Refresh(ctx); err != nil {
			t.Fatalf("%v: refresh: %v", now.Sub(start), err)
		}
		jwks := fetchJWKS(t, ts)
		jwksAt[now] = jwks
		for kid := range jwks {
			if _, ok := firstPublished[kid]; !ok {
				firstPublished[kid] = now
			}
			lastPublished[kid] = now
		}
		// A fresh run each step so the run's 3h expiry never caps the token.
		run := ts.createRun(t, "vpc-prod", "TRACKED")
		for aud, wantAlg := range audiences {
			tok, code := ts.mint(t, run.RunToken, aud)
			if code != 200 {
				t.Fatalf("%v: mint for %s: %d", now.Sub(start), aud, code)
			}
			h := jwtHeader(t, tok.Token)
			kid := h["kid"].(string)
			if h["alg"] != wantAlg {
				t.Fatalf("%v: token for %s signed with %v by %s, want %s", now.Sub(start), aud, h["alg"], kid, wantAlg)
			}
			if _, ok := jwks[kid]; !ok {
				t.Fatalf("%v: signing key %s is not in the current JWKS", now.Sub(start), kid)
			}
			lastSigned[kid] = now
			tokens = append(tokens, minted{at: now, token: tok.Token, kid: kid, aud: aud})
		}
	}

	chains := len(slices.Compact(slices.Sorted(maps.Values(audiences))))
	if len(lastSigned) < 4*chains {
		t.Fatalf("only %d keys signed over %v with period %v: no rotation happened", len(lastSigned), total, period)
	}
	checked := 0
	for _, m := range tokens {
		for _, fetched := range []time.Time{m.at.Add(-prepublish), m.at.Add(tokenTTL)} {
			keys, ok := jwksAt[fetched]
			if !ok || fetched.Before(start.Add(prepublish)) {
				continue // before the first key existed long enough, or after the run
			}
			verifyAt := m.at
			if fetched.After(m.at) {
				verifyAt = fetched.Add(-time.Second) // just before expiry, with the later JWKS
			}
			if err := verifyWithKeysFor(m.aud, m.token, fixedKeys{issuer: ts.URL, keys: keys, at: verifyAt}); err != nil {
				t.Errorf("token minted at +%v by %s does not verify with the JWKS of +%v: %v",
					m.at.Sub(start), m.kid, fetched.Sub(start), err)
			}
			checked++
		}
	}
	if checked < len(tokens) {
		t.Fatalf("only %d checks for %d tokens", checked, len(tokens))
	}
	// Every key was published at least prepublish before it first signed (except the first,
	// which signs at once: no relying party can have cached anything before it).
	retiredChecked := 0
	for kid, last := range lastSigned {
		first := firstSigned(tokens, kid)
		if first != start {
			if lead := first.Sub(firstPublished[kid]); lead < prepublish {
				t.Errorf("key %s published only %v before it signed", kid, lead)
			}
		}
		// A key that stopped signing during the test leaves the JWKS retain (and the replicas'
		// linger) later, not sooner.
		if stays := retain + linger; last.Add(stays + 2*step).Before(start.Add(total)) {
			gone := lastPublished[kid].Sub(last)
			if gone < stays-step || gone > stays+step {
				t.Errorf("key %s: last signed +%v, last published +%v (%v later), want about retain and linger %v",
					kid, last.Sub(start), lastPublished[kid].Sub(start), gone, stays)
			}
			retiredChecked++
		}
	}
	if retiredChecked < 3*chains {
		t.Errorf("only %d retired keys checked", retiredChecked)
	}
}

// minted is a token and when and with which key it was signed.
type minted struct {
	at    time.Time
	token string
	kid   string
	aud   string
}

func firstSigned(tokens []minted, kid string) time.Time {
	for _, m := range tokens {
		if m.kid == kid {
			return m.at
		}
	}
	return time.Time{}
}

func fetchJWKS(t *testing.T, ts *testServer) map[string]crypto.PublicKey {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(get(t, ts.URL+"/.well-known/jwks", "").body, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]crypto.PublicKey{}
	for _, k := range set.Keys {
		out[k.KeyID] = k.Key
	}
	return out
}

// fixedKeys is what go-oidc verifies a token against without discovery: the issuer, a fixed
// key set (such as fetchJWKS returns) and the instant of the check.
type fixedKeys struct {
	issuer string
	keys   map[string]crypto.PublicKey
	at     time.Time
}

// verifyWithKeys verifies a token for "aud" with go-oidc against the fixed key set, at its
// instant.
func verifyWithKeys(token string, fixed fixedKeys) error {
	return verifyWithKeysFor("aud", token, fixed)
}

// verifyWithKeysFor is verifyWithKeys for a token of audience aud.
func verifyWithKeysFor(aud, token string, fixed fixedKeys) error {
	pubs := make([]crypto.PublicKey, 0, len(fixed.keys))
	for _, k := range fixed.keys {
		pubs = append(pubs, k)
	}
	v := oidc.NewVerifier(fixed.issuer, &oidc.StaticKeySet{PublicKeys: pubs},
		&oidc.Config{ClientID: aud, Now: func() time.Time { return fixed.at }, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	_, err := v.Verify(context.Background(), token)
	return err
}
