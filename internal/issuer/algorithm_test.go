package issuer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// onlyRS256For stands for the providers table: one audience accepts RS256 only.
func onlyRS256For(aud string) string {
	if aud == "entra" {
		return keys.RS256
	}
	return ""
}

// newTwoChainIssuer returns an Issuer over an ES256 key set that also keeps an RS256 chain when
// also is set.
func newTwoChainIssuer(t *testing.T, also []string) *Issuer {
	t.Helper()
	cfg, err := config.Parse("bench.yaml", []byte(strings.Replace(benchConfig, "ALG", keys.ES256, 1)))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Policy: keys.Policy{
		Period: time.Hour, Prepublish: time.Minute, Retain: time.Minute, Alg: keys.ES256, Also: also,
	}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New(Config{Issuer: cfg.Issuer, Keys: mgr, TTL: time.Hour, DefaultAudience: "sts.amazonaws.com",
		Spaces: spaces, AlgorithmFor: onlyRS256For})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func headerAlg(t *testing.T, jwt string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h jwsHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

func TestMintPicksTheAlgorithmTheAudienceAccepts(t *testing.T) {
	iss := newTwoChainIssuer(t, []string{keys.RS256})
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"default audience: configured algorithm", Request{}, keys.ES256},
		{"restricted audience", Request{Audience: "entra"}, keys.RS256},
		{"other audience", Request{Audience: "vault"}, keys.ES256},
		{"caller names the algorithm", Request{Audience: "custom", Algorithm: keys.RS256}, keys.RS256},
	}
	for _, tt := range tests {
		tt.req.Run = benchRun()
		// Twice: the second comes from the signer cache.
		for range 2 {
			tok, err := iss.Mint(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("%s: Mint: %v", tt.name, err)
			}
			if got := headerAlg(t, tok.JWT); got != tt.want {
				t.Errorf("%s: alg %s, want %s", tt.name, got, tt.want)
			}
		}
	}
}

func TestMintWithoutAKeyTheAudienceAccepts(t *testing.T) {
	iss := newTwoChainIssuer(t, nil)
	tok, err := iss.Mint(context.Background(), Request{Run: benchRun(), Audience: "entra"})
	if !errors.Is(err, ErrNoSigningKey) || tok.JWT != "" {
		t.Fatalf("Mint for an RS256-only audience with ES256 keys only = %q, %v; want ErrNoSigningKey", tok.JWT, err)
	}
}

// TestMintWhileTheAddedChainIsPrepublished: an RS256 chain added to an ES256 key set already
// published (the algorithm switched to ES256 with Azure in use, say) signs for an RS256-only
// audience only once its key is due; until then Mint fails with an AlgNotDueError naming when.
func TestMintWhileTheAddedChainIsPrepublished(t *testing.T) {
	cfg, err := config.Parse("bench.yaml", []byte(strings.Replace(benchConfig, "ALG", keys.ES256, 1)))
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	store := keys.NewMemory()
	p := keys.Policy{Period: time.Hour, Prepublish: 10 * time.Minute, Retain: 10 * time.Minute, Alg: keys.ES256}
	manager := func(p keys.Policy) *keys.Manager {
		mgr, err := keys.NewManager(keys.Config{Backend: store, Policy: p, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mgr.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		return mgr
	}
	manager(p)
	clk.Advance(20 * time.Minute)
	p.Also = []string{keys.RS256}
	mgr := manager(p)
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New(Config{Issuer: cfg.Issuer, Keys: mgr, TTL: time.Hour, DefaultAudience: "sts.amazonaws.com",
		Spaces: spaces, AlgorithmFor: onlyRS256For, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	want := clk.Now().Add(p.Lead())
	_, err = iss.Mint(context.Background(), Request{Run: benchRun(), Audience: "entra"})
	var notDue *AlgNotDueError
	if !errors.As(err, &notDue) || !errors.Is(err, ErrNoSigningKey) || notDue.Alg != keys.RS256 || !notDue.Due.Equal(want) {
		t.Fatalf("Mint for an RS256-only audience while the RS256 key is prepublished = %v; want an AlgNotDueError for RS256 due %s", err, want)
	}
	clk.Set(want)
	if _, err := mgr.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(context.Background(), Request{Run: benchRun(), Audience: "entra"})
	if err != nil || headerAlg(t, tok.JWT) != keys.RS256 {
		t.Fatalf("Mint once the RS256 key is due = %v", err)
	}
}
