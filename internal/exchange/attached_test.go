package exchange

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestAttachedEitherScope: an integration attached to a stack for write only, or read only,
// is attached to it (the API then answers 403, not 404, when a run of it names it in the
// wrong scope); another stack's is not.
func TestAttachedEitherScope(t *testing.T) {
	a := NewAttachmentsOf(&config.Config{
		Integrations: []config.Integration{{ID: "aws-read", AWS: &config.AWS{}}, {ID: "aws-write", AWS: &config.AWS{}}},
		Attachments: []config.Attachment{
			{Stack: "vpc", Integration: "aws-read", Read: true},
			{Stack: "vpc", Integration: "aws-write", Write: true},
		},
	})
	for _, tc := range []struct {
		stack, integration string
		want               bool
	}{{"vpc", "aws-read", true}, {"vpc", "aws-write", true}, {"other", "aws-write", false}, {"vpc", "nope", false}} {
		if got := a.Attached(tc.stack, tc.integration); got != tc.want {
			t.Errorf("Attached(%s, %s) = %v, want %v", tc.stack, tc.integration, got, tc.want)
		}
	}
}

// TestClassify5xx: an upstream's 500 is a failure, not a refusal of the caller.
func TestClassify5xx(t *testing.T) {
	for _, status := range []int{499, 500, 502} {
		want := Error
		if status < 500 {
			want = Denied
		}
		if got := Classify(Upstream("vault", UpstreamAnswer{Status: status, Message: "x"})); got != want {
			t.Errorf("Classify(%d) = %s, want %s", status, got, want)
		}
	}
}

// TestScrubBounds: a given secret of 8 characters is scrubbed, one of 7 is not; a message
// of exactly maxMessage+1 characters is capped, one of maxMessage is not.
func TestScrubBounds(t *testing.T) {
	for _, tc := range []struct{ in, secret, want string }{
		{"code k8secret here", "k8secret", "code [redacted] here"},
		{"code k7secre here", "k7secre", "code k7secre here"},
		{strings.Repeat("a", 1000), "", strings.Repeat("a", 1000)},
		{strings.Repeat("a", 1001), "", strings.Repeat("a", 1000) + "…"},
	} {
		if got := Scrub(tc.in, tc.secret); got != tc.want {
			t.Errorf("Scrub(%.20q…, %q) = %.40q… (%d bytes), want %d bytes", tc.in, tc.secret, got, len(got), len(tc.want))
		}
	}
}
