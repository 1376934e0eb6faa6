package awsemu

import (
	"net/http"
	"strings"
	"testing"
)

// TestInlineAndManagedPoliciesShare2048: the plaintext of a request's inline and managed session
// policies may not pass 2,048 characters together: an inline policy of 2,040 characters and a
// 38-character managed policy ARN (2,078) are refused 400 PackedPolicyTooLarge, as STS refuses
// them, while either alone is taken.
// Guards against: params.go:checkSessionPolicy bounding each part alone
func TestInlineAndManagedPoliciesShare2048(t *testing.T) {
	f := newFixture(t)
	p := webIdentity(f.token(t, nil))
	p.Set("Policy", paddedPolicy(2040))
	p.Set("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	status, body := f.post(t, p)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "<Code>PackedPolicyTooLarge</Code>") {
		t.Fatalf("inline policy of 2040 characters plus a 38-character managed policy ARN (2078 together): %d %.200s, want 400 PackedPolicyTooLarge", status, body)
	}
	for _, param := range []string{"Policy", "PolicyArns.member.1.arn"} {
		alone := webIdentity(f.token(t, nil))
		alone.Set(param, p.Get(param))
		if status, body := f.post(t, alone); status != http.StatusOK {
			t.Errorf("%s alone: %d %.200s, want credentials", param, status, body)
		}
	}
}
