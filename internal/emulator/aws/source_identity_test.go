package awsemu

import (
	"net/http"
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
