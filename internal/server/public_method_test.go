package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestPublicDocumentsWrongMethod: another method than GET or HEAD on discovery or the JWKS is
// 405 in the envelope with Allow naming GET, as on every other route.
func TestPublicDocumentsWrongMethod(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks"} {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			req, err := http.NewRequest(m, ts.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Error struct{ Code string } `json:"error"`
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			err = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") || env.Error.Code != "method_not_allowed" {
				t.Errorf("%s %s: %d Allow=%q code %q; want 405 method_not_allowed with Allow: GET", m, path, resp.StatusCode, resp.Header.Get("Allow"), env.Error.Code)
			}
		}
	}
}
