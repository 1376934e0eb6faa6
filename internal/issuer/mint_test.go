package issuer

import (
	"context"
	"encoding/base64"
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

// TestPrepareThenSign: the claims Prepare drafts, `jti` included, are the ones Sign signs, and
// Sign refuses a Draft that did not come from Prepare.
func TestPrepareThenSign(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	d, err := iss.Prepare(Request{Run: benchRun(), Audience: "sts.amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Sign(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Split(tok.JWT, ".")[1]
	want := base64.RawURLEncoding.EncodeToString(d.Claims.AppendJSON(nil))
	if tok.Claims != d.Claims || payload != want || d.Claims.ID == "" || d.Claims.Audience != "sts.amazonaws.com" {
		t.Fatalf("signed %+v (payload %s), drafted %+v (%s)", tok.Claims, payload, d.Claims, want)
	}
	if tok, err := iss.Sign(context.Background(), Draft{Claims: d.Claims}); !errors.Is(err, ErrNoSigningKey) || tok.JWT != "" {
		t.Fatalf("Sign of a Draft not from Prepare = %q, %v; want ErrNoSigningKey", tok.JWT, err)
	}
}
