package main

import (
	"encoding/json"
	"testing"
)

// TestGCPExecutableTokenTypeDefaultsToJWT pins the token_type of a successful
// executable-sourced response: the JWT type when the caller names no subject token type (or
// only blanks), and exactly the type named when it is one a broker token can be.
// Guards against: gcpexecutable.go:runGCPExecutable default token type jwt -> id_token
func TestGCPExecutableTokenTypeDefaultsToJWT(t *testing.T) {
	const answer = `{"token":"eyJh.eyJi.c2ln","expiresAt":"2030-01-01T00:00:00Z"}`
	cases := []struct{ name, asked, want string }{
		{"none asked", "", gcpTokenTypeJWT},
		{"blank asked", "  ", gcpTokenTypeJWT},
		{"jwt asked", gcpTokenTypeJWT, gcpTokenTypeJWT},
		{"id_token asked", gcpTokenTypeIDToken, gcpTokenTypeIDToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"BROKER_URL": answering(t, answer), "BROKER_RUN_TOKEN": "brk_run_x"}
			if tc.asked != "" {
				vars[envGoogleTokenType] = tc.asked
			}
			r := runCLI(vars, "token", "--format", "gcp-executable")
			var resp gcpExecutableResponse
			if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil || r.code != exitOK {
				t.Fatalf("exit %d, stdout %q, stderr %q (%v); want 0 and a response", r.code, r.stdout, r.stderr, err)
			}
			if !resp.Success || resp.TokenType != tc.want || resp.Version != 1 {
				t.Errorf("response %+v, want success, version 1 and token_type %s", resp, tc.want)
			}
		})
	}
}
