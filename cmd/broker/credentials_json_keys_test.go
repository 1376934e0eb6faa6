package main

import (
	"strings"
	"testing"
)

// TestCredentialsJSONCheckReadsWhatItPrints: --format json prints the broker's answer as
// it came, so the completeness check must judge the "env" a JSON reader finds in that text
// (the exact key, the last of duplicates), not Go's case-insensitive, merging reading of it:
// an answer whose "env" lacks the credentials, or names a variable that is none of the
// provider's (PATH), is exit 1 with nothing on stdout.
func TestCredentialsJSONCheckReadsWhatItPrints(t *testing.T) {
	const env = `{"AWS_ACCESS_KEY_ID":"AKIA","AWS_SECRET_ACCESS_KEY":"k","AWS_SESSION_TOKEN":"t"}`
	cases := []struct{ name, answer string }{
		{"credentials under Env only", `{"provider":"aws","Env":` + env + `}`},
		{"last env is empty", `{"provider":"aws","env":` + env + `,"env":{}}`},
		{"env names PATH, ENV resets, Env refills",
			`{"provider":"aws","env":{"PATH":"/tmp/evil"},"ENV":null,"Env":` + env + `}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{
				"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x",
			}
			res := runCLI(vars, "credentials", "aws", "--format", "json")
			if res.code != exitError || res.stdout != "" {
				t.Errorf("answer %s: exit %d, stdout %q; want exit 1 and nothing printed",
					tc.answer, res.code, strings.TrimSpace(res.stdout))
			}
		})
	}
}
