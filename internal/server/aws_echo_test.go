package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAssumeRoleRefusalKeepsBrokersCredentialsOut: in assume-role mode broker signs STS calls with
// its own AWS credentials, whose session token travels as X-Amz-Security-Token. An STS (or a
// proxy before it) whose refusal echoes the signed headers, as SignatureDoesNotMatch does, never
// puts that token into the worker's answer, the audit trail or an audit sink.
func TestAssumeRoleRefusalKeepsBrokersCredentialsOut(t *testing.T) {
	const session = "IQoJb3JpZ2luX2VjBrokersOwnSessionToken0123456789abcdefSECRETzz"
	t.Setenv("AWS_ACCESS_KEY_ID", "ASIAZZREVIEWBROKER01")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "zzreviewsecretaccesskey0123456789abcdefg")
	t.Setenv("AWS_SESSION_TOKEN", session)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>`+
			`<Message>The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been 'POST / host:%s x-amz-date:%s x-amz-security-token:%s'</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
			r.Host, r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Security-Token"))
	}))
	defer sts.Close()
	sink := filepath.Join(t.TempDir(), "audit.jsonl")
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-assume, space: prod, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/r", sts_endpoint: %q}}
attachments:
  - {stack: vpc-prod, integration: aws-assume, read: true}
audit:
  sinks:
    - file: {path: %q}
`, sts.URL, sink)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	_, code, env := ts.credentials(t, run.RunToken, "aws", "")
	if code != 502 || strings.Contains(fmt.Sprint(env), session) {
		t.Fatalf("credentials: %d %+v, want 502 without broker's session token", code, env)
	}
	for _, e := range auditEvents(t, ts, "root", 1000) {
		if strings.Contains(e.Detail, session) {
			t.Errorf("audit event %s (%s/%s) holds broker's own AWS session token: %s", e.ID, e.Action, e.Outcome, e.Detail)
		}
	}
	delivered := false
	for deadline := time.Now().Add(5 * time.Second); !delivered && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		raw, _ := os.ReadFile(sink)
		if delivered = strings.Contains(string(raw), "credentials.issue"); delivered && strings.Contains(string(raw), session) {
			t.Errorf("the audit file sink holds broker's own AWS session token")
		}
	}
	if !delivered {
		t.Error("the credentials.issue event never reached the file sink")
	}
}
