package gcpemu

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestSTSScopeIsSpaceDelimited checks that the token exchange's scope parameter is read as
// Google documents it, "a list of space-delimited, case-sensitive strings": a tab, a line feed
// or a no-break space does not separate two scopes, so "cloud-platform<TAB>iam" is one scope
// that is neither, and the federated token it yields may not call generateAccessToken (or the
// exchange is refused outright).
func TestSTSScopeIsSpaceDelimited(t *testing.T) {
	const iamScope = "https://www.googleapis.com/auth/iam"
	for _, sep := range []string{"\t", "\n", "\r", "\v", "\f", "\u00a0", "\u0085", "\u2003"} {
		t.Run(fmt.Sprintf("%+q", sep), func(t *testing.T) {
			f := newFixture(t)
			form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
			form.Set("scope", cloudScope+sep+iamScope)
			status, body := f.postSTS(t, form)
			if status != http.StatusOK {
				return // refused: as strict as Google
			}
			fed, _ := body["access_token"].(string)
			status, _ = f.postIAM(t, readerSA, fed, map[string]any{"scope": []string{cloudScope}})
			if status == http.StatusOK {
				t.Fatalf("scope %q (one scope at Google) gave a federated token that "+
					"impersonates: %d", cloudScope+sep+iamScope, status)
			}
		})
	}
}
