package gcpemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServiceAccountFoldsASCIIOnly: generateAccessToken finds a service account by its email
// in any ASCII case only: a name equal to a configured email only under Unicode case folding
// (U+017F LONG S folds to "s") names no account (404), since service account emails are ASCII.
func TestServiceAccountFoldsASCIIOnly(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "read")
	name := strings.Replace(readerSA, "s", "\u017f", 1)
	req := map[string]any{"scope": []string{cloudScope}}
	status, body := f.postIAM(t, url.PathEscape(name), fed, req)
	if status != http.StatusNotFound {
		t.Errorf("service account %q: %d %v, want 404", name, status, body)
	}
}
