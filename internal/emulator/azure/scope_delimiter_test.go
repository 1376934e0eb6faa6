package azureemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestScopeIsSpaceDelimited: scope is a list of scope-tokens separated by a single space
// (RFC 6749 section 3.3: scope = scope-token *( SP scope-token ), and a scope-token holds no
// other white space), as the GCP emulator reads it too. A tab, line feed or no-break space
// does not separate scopes, so "<resource>/.default<TAB>openid" is one malformed scope, not
// ending in /.default, and Entra refuses it with 400 invalid_scope.
// Guards against: token.go:resourceScope strings.Fields splitting scopes at any white space
func TestScopeIsSpaceDelimited(t *testing.T) {
	f := newFixture(t)
	for _, sep := range []string{"\t", "\n", "\r", "\u00a0", "\u2003"} {
		t.Run(fmt.Sprintf("%+q", sep), func(t *testing.T) {
			form := goodForm(f.assertion(t, oidctest.Token{}))
			form.Set("scope", scope+sep+"openid")
			rec, body := f.post(t, tenantID, form)
			desc, _ := body["error_description"].(string)
			if rec.Code != http.StatusBadRequest || body["error"] != "invalid_scope" || !strings.HasPrefix(desc, "AADSTS70011:") {
				t.Errorf("scope %q (separated by %q, not a space): %d %v %q, want 400 invalid_scope AADSTS70011",
					scope+sep+"openid", sep, rec.Code, body["error"], desc)
			}
		})
	}
	// Spaces do separate scopes.
	form := goodForm(f.assertion(t, oidctest.Token{}))
	form.Set("scope", scope+"  openid profile")
	if rec, body := f.post(t, tenantID, form); rec.Code != http.StatusOK {
		t.Errorf("scope %q separated by spaces: %d %v, want 200", form.Get("scope"), rec.Code, body)
	}
}
