package awsemu

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// fixtureWith is an emulator whose only roles are roles, trusting a fresh test issuer (use
// freshIssuer as a role's Issuer to name it).
func fixtureWith(t *testing.T, roles []Role) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	for i := range roles {
		if roles[i].Trust.Issuer == freshIssuer {
			roles[i].Trust.Issuer = iss.URL
		}
	}
	emu := New(Config{Roles: roles})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{iss: iss, emu: emu, srv: srv}
}

// freshIssuer stands for the issuer of fixtureWith in a Role's trust.
const freshIssuer = "fresh-issuer"

// TestAudienceMustBeAClientID: a web identity token is taken only when its aud is one of the
// provider's client IDs; "sts.amazonaws.com" is no default. A provider registered with another
// client ID refuses a token minted for sts.amazonaws.com with InvalidIdentityToken.
// Guards against: audiences widened with sts.amazonaws.com in
// webidentity.go:assumeRoleWithWebIdentity
func TestAudienceMustBeAClientID(t *testing.T) {
	f := fixtureWith(t, []Role{{ARN: readRole, Trust: Trust{Issuer: freshIssuer, Audiences: []string{"custom-aud"}}}})
	status, body := f.post(t, webIdentity(f.token(t, nil)))
	expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken", "Incorrect token audience")

	status, body = f.post(t, webIdentity(f.token(t, map[string]any{"aud": "custom-aud"})))
	expectAnswer(t, status, body, http.StatusOK, "", "")
}

// TestLeadingStarBacktracks: a StringLike condition starting with '*' matches a subject in
// which the text after the star occurs more than once (the match must backtrack to the star).
// Guards against: star >= 0 -> star > 0 in params.go:globMatch
func TestLeadingStarBacktracks(t *testing.T) {
	for _, tc := range []struct {
		pattern, sub string
		want         bool
	}{
		{"*:scope:read", "stack:scope:x:scope:read", true},
		{"*ab", "aab", true},
		{"*ab", "aabx", false},
	} {
		if got := matchSubject(tc.pattern, tc.sub); got != tc.want {
			t.Errorf("matchSubject(%q, %q) = %v, want %v", tc.pattern, tc.sub, got, tc.want)
		}
	}
}

// TestAudienceReportedIsTheMatchedClientID: when the token's aud lists several values, the
// answer's Audience (and the recorded call's) is the one that matched a client ID of the
// provider, not merely the first in the token.
// Guards against: matchedAudience returns the token's first aud in webidentity.go:matchedAudience
func TestAudienceReportedIsTheMatchedClientID(t *testing.T) {
	f := newFixture(t)
	p := webIdentity(f.token(t, map[string]any{"aud": []any{"not-a-client-id", "custom-aud"}, "sub": "space:root:stack:x:run_type:TRACKED:scope:read"}))
	p.Set("RoleArn", wildRole)
	status, body := f.post(t, p)
	expectAnswer(t, status, body, http.StatusOK, "", "")
	var doc webIdentityDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Result.Audience != "custom-aud" || lastCall(t, f.emu).Audience != "custom-aud" {
		t.Errorf("Audience = %q, call audience %q; want custom-aud", doc.Result.Audience, lastCall(t, f.emu).Audience)
	}
}

// TestMinimumLengthsToTheUnit: STS's model minimums hold to the character: a RoleSessionName or
// SourceIdentity of one character, an ExternalId of one character and a RoleArn of 19 and a
// WebIdentityToken of 3 are each a 400 ValidationError, while two characters (20 for RoleArn's
// minimum, checked before the role is looked up) pass validation.
// Guards against: n < sp.MinLen -> n < sp.MinLen-1 in params.go:str
// Guards against: ExternalId MinLen 2 -> 1 in assumerole.go:assumeRole
// Guards against: WebIdentityToken MinLen 4 -> 0 in webidentity.go:assumeRoleWithWebIdentity
func TestMinimumLengthsToTheUnit(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		action, param, value string
		status               int
	}{
		{"AssumeRole", "ExternalId", "x", http.StatusBadRequest},
		{"AssumeRole", "SourceIdentity", "x", http.StatusBadRequest},
		{"AssumeRole", "SourceIdentity", "xy", http.StatusOK},
		{"AssumeRoleWithWebIdentity", "RoleSessionName", "x", http.StatusBadRequest},
		{"AssumeRoleWithWebIdentity", "RoleSessionName", "xy", http.StatusOK},
		{"AssumeRoleWithWebIdentity", "RoleArn", "arn:aws:iam::1:role/", http.StatusForbidden},
		{"AssumeRoleWithWebIdentity", "RoleArn", "arn:aws:iam::1:role", http.StatusBadRequest},
		{"AssumeRoleWithWebIdentity", "WebIdentityToken", "abc", http.StatusBadRequest},
	} {
		status, body := f.sendWith(t, tc.action, tc.param, tc.value)
		code := ""
		if tc.status == http.StatusBadRequest {
			code = "ValidationError"
		}
		t.Run(tc.action+"/"+tc.param+"="+tc.value, func(t *testing.T) {
			expectAnswer(t, status, body, tc.status, code, "")
		})
	}
}
