package server

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// TestTokenAudienceIsPrintableURI requires that a requested audience holding anything but
// printable ASCII URI characters is refused before it can reach a signed token or the audit
// trail (a right-to-left override, U+202E, used to do both).
func TestTokenAudienceIsPrintableURI(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for _, tc := range []struct{ name, body, want string }{
		{"right-to-left override", `{"audience":"moc.swanozama\u202e.sts"}`, `'\u202e' at byte 13`},
		{"zero-width space", `{"audience":"sts.amazonaws.com\u200b"}`, `'\u200b' at byte 17`},
		{"non-ASCII letter", `{"audience":"stś.amazonaws.com"}`, `'\u015b' at byte 2`},
		{"quote", `{"audience":"sts\"x"}`, `'"' at byte 3`},
		{"too long", `{"audience":"` + strings.Repeat("a", 257) + `"}`, "longer than 256 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env envelope
			if code := ts.call(t, apiRequest{method: "POST", path: "/v1/token", bearer: run.RunToken, body: tc.body, out: &env}); code != 400 {
				t.Fatalf("status %d, want 400", code)
			}
			if !strings.Contains(env.Error.Message, tc.want) {
				t.Errorf("message %q does not say %s", env.Error.Message, tc.want)
			}
		})
	}
	for _, e := range auditEvents(t, ts, "root", 100) {
		if e.Action == "token.issue" || strings.ContainsAny(e.Detail, "\u202e\u200b") {
			t.Errorf("audit event for a refused audience: %+v", e)
		}
	}
	if tok, code := ts.mint(t, run.RunToken, "api://AzureADTokenExchange"); code != 200 || tok.Token == "" {
		t.Errorf("a URI audience: status %d", code)
	}
}

// TestEntraAudiencesAreRS256 requires that with keys.algorithm ES256 a token for Entra ID's
// default audience of every Azure cloud, the public one and the national ones, is signed RS256:
// Entra ID refuses any other algorithm in a federated client assertion. Other audiences keep
// the configured algorithm.
func TestEntraAudiencesAreRS256(t *testing.T) {
	ts := startServer(t, serverOptions{alg: "ES256"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	want := map[string]string{"sts.amazonaws.com": "ES256", "api://AzureADTokenExchangeX": "ES256"}
	for _, aud := range append([]string{exchange.AzureAudience}, provider.AzureNationalAudiences...) {
		want[aud] = "RS256"
	}
	for _, aud := range []string{"api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina"} {
		if want[aud] != "RS256" {
			t.Fatalf("%s is not among the national audiences", aud)
		}
	}
	for aud, alg := range want {
		tok, code := ts.mint(t, run.RunToken, aud)
		if code != 200 {
			t.Fatalf("token for %s: status %d", aud, code)
		}
		if got := jwtHeader(t, tok.Token)["alg"]; got != alg {
			t.Errorf("token for %s signed %v, want %s", aud, got, alg)
		}
	}
}
