package issuer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestMintRefusesInconsistentRun: the scope in a token comes from the run type and phase, and a
// record whose stored scope, type or phase contradicts them gets no token at all.
func TestMintRefusesInconsistentRun(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	good := benchRun() // TRACKED, APPLYING, write
	tok, err := iss.Mint(context.Background(), Request{Run: good})
	if err != nil || tok.Claims.Scope != runs.Write || !strings.HasSuffix(tok.Claims.Subject, ":scope:write") {
		t.Fatalf("consistent run: %+v, %v", tok.Claims, err)
	}
	corrupt := map[string]func(*runs.Run){
		"PROPOSED edited to write": func(r *runs.Run) { r.RunType, r.Phase, r.Scope = runs.Proposed, runs.Planning, runs.Write },
		"write phase stored read":  func(r *runs.Run) { r.Scope = runs.Read },
		"no scope":                 func(r *runs.Run) { r.Scope = "" },
		"unknown run type":         func(r *runs.Run) { r.RunType = "ADMIN" },
		"phase of another type":    func(r *runs.Run) { r.RunType = runs.Proposed },
		"unknown phase":            func(r *runs.Run) { r.Phase = "ROOT" },
	}
	for name, mutate := range corrupt {
		run := benchRun()
		mutate(&run)
		tok, err := iss.Mint(context.Background(), Request{Run: run, AWSSessionTags: true})
		if !errors.Is(err, runs.ErrCorrupt) || tok.JWT != "" {
			t.Errorf("%s: Mint = %q, %v; want no token and ErrCorrupt", name, tok.JWT, err)
		}
	}
}
