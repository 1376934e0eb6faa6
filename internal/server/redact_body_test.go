package server

import (
	"strings"
	"testing"
)

// TestBodyErrorsNeverQuoteALogin: the API's 400 for a body never repeats a password written into
// a URL, whether a value quotes it (its password holding a quote, valid in a URL's userinfo) or
// the URL was written as a key by mistake.
func TestBodyErrorsNeverQuoteALogin(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	a := ts.admin(t, "PUT", "/v1/integrations/zr-int",
		`{"space":"team-a","duration":"https://ops:Zq9'pw0rdsecret@vault.example.com","vault":{"address":"https://vault.example.com","role":"deploy"}}`)
	if a.code != 400 || strings.Contains(a.body, "pw0rdsecret") {
		t.Errorf("a value quoting a login: %d %s, want 400 without the password", a.code, a.body)
	}
	var out envelope
	code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret,
		body: `{"stack":"app-a","runType":"TRACKED","https://ops:pw0rdsecret@vault.example.com":1}`, out: &out})
	if code != 400 || strings.Contains(out.Error.Message, "pw0rdsecret") {
		t.Errorf("a URL written as a key: %d %q, want 400 without the password", code, out.Error.Message)
	}
}
