package awsemu

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPolicyArnsAreValidated: STS takes at most 10 managed session policies (PolicyArns), each an
// ARN of 20 to 2048 characters, and answers 400 ValidationError past either bound, on
// AssumeRoleWithWebIdentity and AssumeRole alike; within them the request is served.
// Guards against: webidentity.go and assumerole.go never reading PolicyArns (credentials granted
// for a 1-character ARN or 11 of them).
func TestPolicyArnsAreValidated(t *testing.T) {
	f := newFixture(t)
	const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	for _, tc := range []struct {
		name    string
		arns    []string
		status  int
		message string
	}{
		{"one managed policy", []string{readOnly}, http.StatusOK, ""},
		{"ten managed policies", slices.Repeat([]string{readOnly}, 10), http.StatusOK, ""},
		{"an ARN shorter than 20 characters", []string{"x"}, http.StatusBadRequest,
			"Value 'x' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"an ARN longer than 2048 characters", []string{readOnly, "arn:aws:iam::aws:policy/" + strings.Repeat("p", 2030)}, http.StatusBadRequest,
			"at 'policyArns.2.member.arn' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"eleven managed policies", slices.Repeat([]string{readOnly}, 11), http.StatusBadRequest,
			"Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10"},
	} {
		withArns := func(p url.Values) url.Values {
			for i, arn := range tc.arns {
				p.Set("PolicyArns.member."+strconv.Itoa(i+1)+".arn", arn)
			}
			return p
		}
		t.Run(tc.name, func(t *testing.T) {
			for action, send := range map[string]func() (int, []byte){
				"AssumeRoleWithWebIdentity": func() (int, []byte) { return f.post(t, withArns(webIdentity(f.token(t, nil)))) },
				"AssumeRole":                func() (int, []byte) { return f.send(t, signed{params: withArns(assumeParams(externalID))}) },
			} {
				status, body := send()
				if status != tc.status {
					t.Fatalf("%s: status %d, want %d; body %.300s", action, status, tc.status, body)
				}
				if tc.status == http.StatusOK {
					continue
				}
				if e := decodeError(t, body); e.Error.Code != "ValidationError" || !strings.Contains(e.Error.Message, tc.message) {
					t.Errorf("%s: %s %q, want ValidationError naming %q", action, e.Error.Code, e.Error.Message, tc.message)
				}
			}
		})
	}
}
