package api

import (
	"net/http"
	"strings"
	"testing"
)

// A refusal about an API key names it "API key", as every other answer of the API does, never
// by the kind's internal name "api_key" (which the capitalized sentence made "Api_key").
func TestRefusalsNameAPIKeysInWords(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	r, _ := http.NewRequest(http.MethodPost, "/v1/api-keys",
		strings.NewReader(`{"id":"ci","bindings":[{"role":"admin","space":"team-a"}]}`))
	if w := e.serve("boss", r); w.Code != http.StatusCreated {
		t.Fatalf("creating API key ci: %d %s", w.Code, w.Body)
	}
	for _, tc := range []struct {
		name, path, ifMatch string
		want                int
	}{
		{name: "deleting a key of the file", path: "/v1/api-keys/a-admin", want: 409},
		{name: "deleting an API key at another version", path: "/v1/api-keys/ci",
			ifMatch: `"7"`, want: 412},
	} {
		w := e.serve("boss", deleteIfMatch(tc.path, tc.ifMatch))
		if w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
		if body := w.Body.String(); strings.Contains(strings.ToLower(body), "api_key") {
			t.Errorf("%s: the answer names the kind %q: %s", tc.name, "api_key", body)
		}
	}
}

// deleteIfMatch is a DELETE of path, with If-Match when ifMatch is not empty.
func deleteIfMatch(path, ifMatch string) *http.Request {
	r, _ := http.NewRequest(http.MethodDelete, path, nil)
	if ifMatch != "" {
		r.Header.Set("If-Match", ifMatch)
	}
	return r
}
