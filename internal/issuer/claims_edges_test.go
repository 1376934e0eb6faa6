package issuer

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// TestMintedClaimsAreTheRunsOwn pins every claim of a minted token to the run and the request: sub
// is the default template rendered for the run's own space, stack, type and scope; aud is the
// requested audience, or the configured default (not a hard-coded one) when none is named; spaceId,
// callerType, callerId, runType, runId, runPhase and scope are the run's.
// Guards against: mint.go:185 RunPhase: run.Phase -> runs.Applying
// Guards against: mint.go:184 SpaceID: run.Space -> run.Stack
// Guards against: mint.go:185 RunID: run.ID -> jti
// Guards against: mint.go:185 RunType: run.RunType -> runs.Tracked
// Guards against: mint.go:168 Subject input CallerID: run.Stack -> run.ID
// Guards against: mint.go:182 Audience: aud -> i.cfg.DefaultAudience (requested audience ignored)
// Guards against: mint.go:175 aud = i.cfg.DefaultAudience -> a hard-coded "sts.amazonaws.com"
func TestMintedClaimsAreTheRunsOwn(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	iss.cfg.DefaultAudience = "configured-default"
	now := time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)
	iss.cfg.Now = func() time.Time { return now }
	tests := []struct {
		name     string
		typ      runs.Type
		phase    runs.Phase
		scope    runs.Scope
		audience string
		wantAud  string
	}{
		{"tracked planning, default audience", runs.Tracked, runs.Planning, runs.Read, "", "configured-default"},
		{"destroy destroying, named audience", runs.Destroy, runs.Destroying, runs.Write, "vault", "vault"},
		{"task performing, named audience", runs.Task, runs.Performing, runs.Write, "sts.amazonaws.com", "sts.amazonaws.com"},
		{"proposed initializing", runs.Proposed, runs.Initializing, runs.Read, "api://AzureADTokenExchange", "api://AzureADTokenExchange"},
	}
	for _, tc := range tests {
		run := benchRun()
		run.RunType, run.Phase, run.Scope = tc.typ, tc.phase, tc.scope
		run.ExpiresAt = now.Add(24 * time.Hour)
		tok, err := iss.Mint(context.Background(), Request{Run: run, Audience: tc.audience})
		if err != nil {
			t.Fatalf("%s: Mint: %v", tc.name, err)
		}
		c := tok.Claims
		wantSub := "space:team-a:stack:app-a:run_type:" + string(tc.typ) + ":scope:" + string(tc.scope)
		want := claims.Claims{
			Issuer: "https://broker.example.com", Subject: wantSub, Audience: tc.wantAud,
			Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), NotBefore: now.Add(-NotBeforeSkew).Unix(), ID: c.ID,
			SpaceID: "team-a", CallerType: claims.CallerTypeStack, CallerID: "app-a",
			RunType: tc.typ, RunID: run.ID, RunPhase: tc.phase, Scope: tc.scope,
		}
		if c != want {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.name, c, want)
		}
	}
}

// TestNewRequiresAnIssuer pins that an Issuer without an `iss` value is refused at construction (it
// would mint tokens with an empty iss).
// Guards against: mint.go:91 dropped `cfg.Issuer == ""` check
func TestNewRequiresAnIssuer(t *testing.T) {
	good, _ := newBenchIssuer(t, "ES256")
	cfg := good.cfg
	cfg.Issuer = ""
	if _, err := New(cfg); err == nil {
		t.Error("New with an empty Issuer accepted")
	}
}

// TestTokenNeverOutlivesItsRun pins exp = min(now + tokens.ttl, run expiry) in whole seconds, for
// runs ending anywhere around now + ttl: a token never outlives its run, and is never cut shorter
// than the ttl when the run lasts longer.
// Guards against: mint.go:159 cap applied only when the run ends over a minute before now+ttl
// Guards against: mint.go:159 cap dropped (`false && run.ExpiresAt.Before(exp)`)
func TestTokenNeverOutlivesItsRun(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256") // ttl 1h
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	iss.cfg.Now = func() time.Time { return now }
	ttlEnd := now.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		runEnds time.Time
		wantExp time.Time
	}{
		{"run ends 10 minutes after issue", now.Add(10 * time.Minute), now.Add(10 * time.Minute)},
		{"run ends 59s before the ttl", ttlEnd.Add(-59 * time.Second), ttlEnd.Add(-59 * time.Second)},
		{"run ends 1s before the ttl", ttlEnd.Add(-time.Second), ttlEnd.Add(-time.Second)},
		{"run ends 0.4s before the ttl", ttlEnd.Add(-400 * time.Millisecond), ttlEnd.Add(-time.Second)},
		{"run ends at the ttl", ttlEnd, ttlEnd},
		{"run ends 1s after the ttl", ttlEnd.Add(time.Second), ttlEnd},
		{"run ends a day later", now.Add(24 * time.Hour), ttlEnd},
	} {
		run := benchRun()
		run.ExpiresAt = tc.runEnds
		tok, err := iss.Mint(context.Background(), Request{Run: run})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := time.Unix(tok.Claims.Expiry, 0); !got.Equal(tc.wantExp) || got.After(tc.runEnds) || !tok.ExpiresAt.Equal(got) {
			t.Errorf("%s: exp %s (ExpiresAt %s), want %s, never after the run's end %s", tc.name, got.UTC(), tok.ExpiresAt, tc.wantExp, tc.runEnds)
		}
	}
}

// rotatingKeys is a KeySource whose snapshot a test replaces, as a rotation does.
type rotatingKeys struct{ p atomic.Pointer[keys.Snapshot] }

func (s *rotatingKeys) Snapshot() *keys.Snapshot { return s.p.Load() }

// TestMintFollowsKeyRotation pins that once the key set's version changes, tokens are signed by the
// new signing key: the header's kid is the new key's and the signature verifies with it (no stale
// signer, no failure to sign after a rotation).
// Guards against: mint.go:241 signer cache never rebuilt (`cache.version != snap.Version` -> false)
// Guards against: mint.go:214 Token.KID: s.kid -> s.version
func TestMintFollowsKeyRotation(t *testing.T) {
	good, _ := newBenchIssuer(t, "ES256")
	src := &rotatingKeys{}
	cfg := good.cfg
	cfg.Keys = src
	iss, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var prev []keys.Key
	for i, version := range []string{"v1", "v2", "v3"} {
		k, err := keys.Generate(keys.ES256, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		prev = append(prev, k)
		src.p.Store(&keys.Snapshot{Version: version, Signing: k, Signers: []keys.Key{k}, Published: prev})
		tok, err := iss.Mint(context.Background(), Request{Run: benchRun()})
		if err != nil {
			t.Fatalf("rotation %d (%s): Mint: %v", i, version, err)
		}
		jws, err := jose.ParseSignedCompact(tok.JWT, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if kid := jws.Signatures[0].Protected.KeyID; kid != k.KID || tok.KID != k.KID {
			t.Errorf("%s: header kid %s, Token.KID %s; want the new signing key %s", version, kid, tok.KID, k.KID)
		}
		if _, err := jws.Verify(k.Signer.Public()); err != nil {
			t.Errorf("%s: token does not verify with the new signing key: %v", version, err)
		}
	}
}
