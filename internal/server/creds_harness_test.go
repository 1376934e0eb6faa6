package server

import (
	"strings"
	"testing"
)

// credentialsAnswer is POST /v1/credentials's answer.
type credentialsAnswer struct {
	Provider    string            `json:"provider"`
	Integration string            `json:"integration"`
	Scope       string            `json:"scope"`
	ExpiresAt   string            `json:"expiresAt"`
	Env         map[string]string `json:"env"`
	AWS         map[string]any    `json:"aws"`
	GCP         map[string]any    `json:"gcp"`
	Azure       map[string]any    `json:"azure"`
	Vault       map[string]any    `json:"vault"`
}

// credentials asks for credentials with a run token.
func (ts *testServer) credentials(t *testing.T, runToken, provider, integration string) (credentialsAnswer, int, envelope) {
	t.Helper()
	body := map[string]string{"provider": provider}
	if integration != "" {
		body["integration"] = integration
	}
	var raw map[string]any
	code := ts.call(t, apiRequest{method: "POST", path: "/v1/credentials", bearer: runToken, body: body, out: &raw})
	var ans credentialsAnswer
	var env envelope
	remarshal(t, raw, &ans)
	remarshal(t, raw, &env)
	return ans, code, env
}

// assertNoSecretsLogged fails if the server's logs hold any of the secrets.
func assertNoSecretsLogged(t *testing.T, ts *testServer, secrets map[string]string) {
	t.Helper()
	logs := ts.Logs.String()
	if !strings.Contains(logs, "/v1/credentials") {
		t.Fatal("the logs do not mention the credentials calls; the check would prove nothing")
	}
	for name, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("server logs hold the %s", name)
		}
	}
	if jwtShaped.MatchString(logs) {
		t.Errorf("server logs hold a JWT: %s", jwtShaped.FindString(logs))
	}
}
