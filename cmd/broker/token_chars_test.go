package main

import (
	"strings"
	"testing"
)

// TestTokenOutsideBase64URLIsRefused pins that broker token prints a token only when
// every part is made of base64url characters (A-Z, a-z, 0-9, '-' and '_'), and refuses
// (exit 1, nothing on stdout, no part of the token on stderr) a token holding any other
// character, such as base64 padding or the '+' and '/' of standard base64, which a broker
// never sends. A token of every allowed character is printed as is.
// Guards against: token.go:compactJWT accepting '=' beside '-' and '_'
func TestTokenOutsideBase64URLIsRefused(t *testing.T) {
	cases := []struct {
		name, token string
		code        int
	}{
		{"padding", "eyJh.c2VjcmV0=.sig", exitError},
		{"plus", "eyJh.c2Vj+cmV0.sig", exitError},
		{"slash", "eyJh.c2Vj/cmV0.sig", exitError},
		{"dollar", "eyJh.$HOME.sig", exitError},
		{"every allowed character", "ABCXYZ.abcxyz0189.-_", exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answer := `{"token":"` + tc.token + `","expiresAt":"2030-01-01T00:00:00Z"}`
			r := runCLI(map[string]string{"BROKER_URL": answering(t, answer), "BROKER_RUN_TOKEN": "brk_run_x"}, "token")
			if r.code != tc.code {
				t.Fatalf("token %q: exit %d, want %d; stdout %q stderr %q", tc.token, r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == exitOK {
				if r.stdout != tc.token+"\n" {
					t.Errorf("token %q: stdout %q, want the token and a newline", tc.token, r.stdout)
				}
				return
			}
			if r.stdout != "" || !strings.Contains(r.stderr, "not a compact JWT") || strings.Contains(r.stderr, "c2Vj") {
				t.Errorf("token %q: stdout %q stderr %q; want nothing printed and the refusal without the token", tc.token, r.stdout, r.stderr)
			}
		})
	}
}
