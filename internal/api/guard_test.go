package api

import (
	"strings"
	"testing"
)

func TestCredentialKey(t *testing.T) {
	const run = "brk_run_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"
	const key = "brk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"
	cases := []struct {
		name string
		a, b string
		same bool
	}{
		{"run tokens sharing 8 characters", run, run[:16] + strings.Repeat("z", len(run)-16), true},
		{"run tokens differing within 8 characters", run, run[:15] + "z" + run[16:], false},
		{"API keys sharing 8 characters", key, key[:12] + strings.Repeat("z", len(key)-12), true},
		{"API keys differing within 8 characters", key, key[:11] + "z" + key[12:], false},
		{"a run token is not an API key", run, "brk_" + run[8:], false},
		// At most a quarter of a short secret names its count: "test" and "tzzz" share one.
		{"short secrets share a quarter", "test", "tzzz", true},
		{"short secrets differ within a quarter", "test", "zest", false},
		{"tiny secrets share one count", "ab", "cd", true},
	}
	for _, tc := range cases {
		ka, kb := credentialKey(tc.a), credentialKey(tc.b)
		if (ka == kb) != tc.same {
			t.Errorf("%s: %q and %q, same = %v", tc.name, ka, kb, ka == kb)
		}
		if !strings.HasPrefix(ka, "cred:") || len(ka) != len("cred:")+16 {
			t.Errorf("%s: key %q, want cred: and 16 hex digits", tc.name, ka)
		}
		if len(tc.a) > 8 && (strings.Contains(ka, tc.a[8:12]) || strings.Contains(ka, tc.a[:4])) {
			t.Errorf("%s: key %q holds part of the secret", tc.name, ka)
		}
	}
}
