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
