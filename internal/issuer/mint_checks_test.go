package issuer

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/keys"
)

// TestDefaultAudienceGetsItsAlgorithm pins that the signing algorithm is chosen for the
// audience the token is actually issued to: when a request names no audience and the
// configured default audience accepts only RS256, the token is signed with RS256 (a relying
// party that accepts only RS256 would refuse an ES256 token).
// Guards against: AlgorithmFor(req.Audience) instead of AlgorithmFor(aud) in mint.go:Prepare
func TestDefaultAudienceGetsItsAlgorithm(t *testing.T) {
	iss := newTwoChainIssuer(t, []string{keys.RS256})
	iss.cfg.DefaultAudience = "entra" // onlyRS256For: entra accepts RS256 only
	tok, err := iss.Mint(context.Background(), Request{Run: benchRun()})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Audience != "entra" {
		t.Fatalf("aud %q, want the default audience entra", tok.Claims.Audience)
	}
	if got := headerAlg(t, tok.JWT); got != keys.RS256 {
		t.Errorf("token for the RS256-only default audience signed with %s, want RS256", got)
	}
}

// TestNewRequiresKeysAndSpaces pins that an Issuer without a key source or without the
// space catalog is refused at construction, rather than panicking at the first token.
// Guards against: dropped `cfg.Keys == nil` check in mint.go:New
// Guards against: dropped `cfg.Spaces == nil` check in mint.go:New
func TestNewRequiresKeysAndSpaces(t *testing.T) {
	good, _ := newBenchIssuer(t, "ES256")
	noKeys := good.cfg
	noKeys.Keys = nil
	noSpaces := good.cfg
	noSpaces.Spaces = nil
	for name, cfg := range map[string]Config{"no Keys": noKeys, "no Spaces": noSpaces} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New with %s accepted", name)
		}
	}
}
