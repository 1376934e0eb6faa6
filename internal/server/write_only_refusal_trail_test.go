package server

import (
	"strings"
	"testing"
)

// TestWriteOnlyAttachmentRefusalAudited checks that a PROPOSED run (a pull request) in PLANNING
// asking for AWS credentials on a stack whose only AWS attachment is the write one is refused
// with one denied credentials.issue event whether or not the body names the integration: 404
// unnamed (no integration attached for its scope), 403 named. The same attempt at a write
// attachment from a planning phase leaves the same trace either way, holding no run token.
// Guards against: credentials.go:credentials recording a denied event only for a named
// integration, so the unnamed request's 404 (ErrNotAttached) left no trace.
func TestWriteOnlyAttachmentRefusalAudited(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: `
integrations:
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write"}}
attachments:
  - {stack: vpc-prod, integration: aws-write, write: true}
`})
	run := ts.createRun(t, "vpc-prod", "PROPOSED")
	if code := ts.setPhase(t, run.Run.ID, "PLANNING"); code != 200 {
		t.Fatalf("phase: %d", code)
	}
	denied := func() int {
		n := 0
		for _, e := range auditEvents(t, ts, "root", 100) {
			if e.Action == "credentials.issue" && e.Outcome == "denied" && e.Run == run.Run.ID {
				n++
				if strings.Contains(e.Detail, run.RunToken) {
					t.Errorf("the denied event holds the run token: %q", e.Detail)
				}
			}
		}
		return n
	}
	_, code, env := ts.credentials(t, run.RunToken, "aws", "")
	if code != 404 {
		t.Fatalf("unnamed: %d %+v, want 404", code, env.Error)
	}
	unnamedMsg := env.Error.Message
	unnamed := denied()
	_, code, env = ts.credentials(t, run.RunToken, "aws", "aws-write")
	if code != 403 {
		t.Fatalf("named: %d %+v, want 403", code, env.Error)
	}
	named := denied() - unnamed
	if unnamed != 1 || named != 1 {
		t.Errorf("denied credentials.issue events: %d for the unnamed request (%q), %d for the named one; want 1 each",
			unnamed, unnamedMsg, named)
	}
}
