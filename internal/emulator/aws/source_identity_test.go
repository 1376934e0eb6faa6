package awsemu

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
)

// TestSourceIdentityNeedsTrust pins that setting a session's source identity takes the role's
// trust in sts:SetSourceIdentity, as STS requires: AssumeRole with SourceIdentity is 403
// AccessDenied on a role whose trust does not allow it and 200 on one whose trust does, and a
// web identity token carrying the source identity claim is refused on a role without it.
func TestSourceIdentityNeedsTrust(t *testing.T) {
	f := newFixture(t)
	refused := assumeParams(externalID)
	refused.Set("RoleArn", untagged)
	refused.Set("SourceIdentity", "run-01HZX3")
	status, body := f.send(t, signed{params: refused})
	if status != http.StatusForbidden || decodeError(t, body).Error.Code != "AccessDenied" {
		t.Errorf("AssumeRole with SourceIdentity, not trusted: %d %s, want 403 AccessDenied", status, body)
	}
	allowed := assumeParams(externalID)
	allowed.Set("SourceIdentity", "run-01HZX3")
	if status, body := f.send(t, signed{params: allowed}); status != http.StatusOK {
		t.Errorf("AssumeRole with SourceIdentity, trusted: %d %s, want 200", status, body)
	}
	status, body = f.post(t, webIdentity(f.token(t, map[string]any{SourceIdentityClaim: "run-01HZX3"})))
	if status != http.StatusForbidden || decodeError(t, body).Error.Code != "AccessDenied" {
		t.Errorf("web identity token with a source identity, not trusted: %d %s, want 403 AccessDenied", status, body)
	}
	if status, body := f.post(t, webIdentity(f.token(t, nil))); status != http.StatusOK {
		t.Errorf("web identity token without a source identity: %d %s, want 200", status, body)
	}
}

// TestWebIdentitySourceIdentityClaim pins the source identity claim of a web identity token on a
// role trusting sts:SetSourceIdentity: a string of 2 to 64 characters of letters, digits and
// _+=,.@- becomes the session's source identity, recorded and answered back; any other value
// (too short, too long, another character, not a string) is 400 InvalidIdentityToken before
// the role's trust is consulted.
func TestWebIdentitySourceIdentityClaim(t *testing.T) {
	f := fixtureWith(t, []Role{{ARN: readRole, Trust: Trust{Issuer: freshIssuer,
		Audiences: []string{"sts.amazonaws.com"}, SetSourceIdentity: true}}})
	for _, tc := range []struct {
		name  string
		value any
		ok    bool
	}{
		{"a run id", "run-01HZX3", true},
		{"two characters", "ab", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"every allowed mark", "a_b+c=d,e.f@g-h", true},
		{"one character", "a", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"a space", "run 01", false},
		{"a slash", "run/01", false},
		{"a number", 42, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.emu.Calls())
			status, body := f.post(t, webIdentity(f.token(t, map[string]any{SourceIdentityClaim: tc.value})))
			if !tc.ok {
				expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken", "Invalid source identity")
				return
			}
			expectAnswer(t, status, body, http.StatusOK, "", "")
			var doc struct {
				SourceIdentity string `xml:"AssumeRoleWithWebIdentityResult>SourceIdentity"`
			}
			if err := xml.Unmarshal(body, &doc); err != nil || doc.SourceIdentity != tc.value {
				t.Errorf("answered SourceIdentity %q (%v), want %q", doc.SourceIdentity, err, tc.value)
			}
			calls := f.emu.Calls()
			if len(calls) != before+1 || calls[len(calls)-1].SourceIdentity != tc.value {
				t.Errorf("recorded calls %+v, want one more with SourceIdentity %q", calls[before:], tc.value)
			}
		})
	}
	// Without the claim, the answer has no SourceIdentity element.
	status, body := f.post(t, webIdentity(f.token(t, nil)))
	expectAnswer(t, status, body, http.StatusOK, "", "")
	if strings.Contains(string(body), "SourceIdentity") {
		t.Errorf("an answer without a source identity names one: %s", body)
	}
}
