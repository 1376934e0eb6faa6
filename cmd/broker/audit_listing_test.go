package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAuditVerifyRefusesAListingNotAsBrokerListsIt: an event with a member the verifier does
// not know, a member twice or spelled in another case, or one left out would not be covered by
// the hash the verifier computes, so the trail is reported unverifiable (exit 1) instead of
// intact.
func TestAuditVerifyRefusesAListingNotAsBrokerListsIt(t *testing.T) {
	tests := []struct {
		name string
		// mangle rewrites the first page; the events' members are in Event's field order.
		mangle func([]byte) []byte
		want   string
	}{
		{"a member added", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"actor":`), []byte(`"forgedNote":"approved by security","actor":`), 1)
		}, `member "forgedNote"`},
		{"a member in another case", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"actor":`), []byte(`"Actor":"api_key:admin","actor":`), 1)
		}, `member "Actor"`},
		{"a member twice", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"actor":`), []byte(`"detail":"x","actor":`), 1)
		}, `member "detail" twice`},
		{"a member left out", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"integration":"",`), nil, 1)
		}, `no member "integration"`},
		{"a member not a string", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"integration":""`), []byte(`"integration":null`), 1)
		}, `"integration" is not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTrailServer(t, 3)
			s.mangle = func(b []byte) []byte {
				out := tt.mangle(b)
				if bytes.Equal(out, b) {
					t.Fatalf("the page was not changed: %s", b)
				}
				return out
			}
			stdout, _, err := verifyAgainst(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(stdout, "intact") {
				t.Errorf("verify = %v, stdout %q; want an error naming %s", err, stdout, tt.want)
			}
		})
	}
}

// TestAuditVerifyStopsOnAListingThatDoesNotMoveOn: a server whose pages name a next page
// without moving on, or that answers without events, fails the verification at once instead
// of looping or passing with nothing checked.
func TestAuditVerifyStopsOnAListingThatDoesNotMoveOn(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"an empty page with a next page", `{"events":[],"next":"same"}`, "does not move on"},
		{"no events member", `{}`, "no events member"},
		{"no events member, a next page", `{"next":"1"}`, "no events member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/.well-known/openid-configuration":
					json.NewEncoder(w).Encode(map[string]string{"issuer": "http://" + r.Host, "jwks_uri": "http://" + r.Host + "/jwks"})
				case "/jwks":
					w.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"k1"}]}`))
				case "/v1/audit":
					calls++
					w.Write([]byte(tt.page))
				}
			}))
			defer srv.Close()
			var out, errOut bytes.Buffer
			vars := map[string]string{"BROKER_URL": srv.URL, "BROKER_API_KEY": "k"}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := runAudit(ctx, env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, []string{"verify"})
			if err == nil || !strings.Contains(err.Error(), tt.want) || calls > 2 {
				t.Errorf("verify = %v after %d listings, stdout %q; want an error naming %q at once", err, calls, out.String(), tt.want)
			}
		})
	}
}
