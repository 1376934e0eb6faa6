package main

import (
	"bytes"
	"strings"
	"testing"
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
