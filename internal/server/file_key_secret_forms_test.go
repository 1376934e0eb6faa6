package server

import (
	"net/url"
	"strings"
	"testing"
)

// TestBase64FileKeySecretBetweenTextStaysOutOfAccessLog: a file-declared key's secret of the form
// `openssl rand -base64` gives ('+', '='), or one holding '.' and ':', pasted after "Bearer " or
// before ".json", reaches no log line: CutPath asks the parts of a token from and to its soft
// separators, which a secret may hold as well as stand beside.
// Guards against: mux.go:secretIn asking only the pieces between separators
func TestBase64FileKeySecretBetweenTextStaysOutOfAccessLog(t *testing.T) {
	secrets := []string{"q3Zx8kLmP0aBcDeFgHiJkLmN+oPqRsTuVwXyZ0123456=", "deploy.key:2026"}
	base := adminConfig
	for i, s := range secrets {
		base = strings.Replace(base, "api_keys:\n", "api_keys:\n"+
			"  - {id: b64-key-"+string(rune('a'+i))+", secret_sha256: "+sha256Hex(s)+", bindings: [{role: admin, space: root}]}\n", 1)
	}
	ts := startServer(t, serverOptions{baseYAML: base, extraYAML: manyFailures})
	for _, s := range secrets {
		for _, p := range []string{"/v1/stacks/Bearer%20" + url.PathEscape(s), "/v1/stacks/" + url.PathEscape(s) + ".json"} {
			ts.call(t, apiRequest{method: "GET", path: p})
		}
	}
	ts.stop()
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("a log line carries the file-declared key's secret:\n%s", line)
			}
		}
	}
}
