package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// refusingBroker is a broker whose discovery answers and whose trail refuses the key (it holds
// no audit:read); with jwksDown its JWKS cannot be fetched either.
func refusingBroker(t *testing.T, jwksDown bool) *httptest.Server {
	t.Helper()
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": s.URL, "jwks_uri": s.URL + "/jwks"})
		case "/jwks":
			if jwksDown {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(`{"keys":[]}`))
		case "/v1/audit":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"forbidden","message":"Missing audit:read on space root."}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// TestAuditVerifyReportsTheTrailFirst: `broker audit verify` lists the trail before it reports a
// problem of its own setup (discovery, the JWKS, --jwks, --state, the schedule flags), so that a
// broker it cannot reach, or a key without audit:read, is what it reports, as the listing words
// it, and not the setup problem that follows from it or hides it.
func TestAuditVerifyReportsTheTrailFirst(t *testing.T) {
	notJSON := writeFile(t, "garbage", "not json")
	missing := filepath.Join(t.TempDir(), "missing.json")
	refusing := refusingBroker(t, false).URL
	refusingNoJWKS := refusingBroker(t, true).URL
	const unreachable = "http://127.0.0.1:1"
	cases := []struct {
		name, url string
		args      []string
		forbidden bool // else the broker cannot be reached
	}{
		{"unreachable, --jwks missing", unreachable, []string{"--jwks", missing}, false},
		{"unreachable, --jwks not a JWKS", unreachable, []string{"--jwks", notJSON}, false},
		{"unreachable, --state not a state", unreachable, []string{"--state", notJSON}, false},
		{"no audit:read, --jwks missing", refusing, []string{"--jwks", missing}, true},
		{"no audit:read, --jwks not a JWKS", refusing, []string{"--jwks", notJSON}, true},
		{"no audit:read, JWKS down", refusingNoJWKS, nil, true},
		{"no audit:read, --state not a state", refusing, []string{"--state", notJSON}, true},
		{"no audit:read, --checkpoint-every 0", refusing, []string{"--checkpoint-every", "0"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			vars := map[string]string{"BROKER_URL": tc.url, "BROKER_API_KEY": "no-audit-read"}
			e := env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
			err := runAudit(context.Background(), e, append([]string{"verify"}, tc.args...))
			if err == nil {
				t.Fatalf("verified: %s", out.String())
			}
			if tc.forbidden {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !strings.Contains(err.Error(), "audit:read") {
					t.Errorf("error %q, want the trail's refusal of the key (HTTP 403, audit:read)", err)
				}
				return
			}
			if !strings.HasPrefix(err.Error(), "cannot reach broker") {
				t.Errorf("error %q, want the listing's: cannot reach broker", err)
			}
		})
	}
}
