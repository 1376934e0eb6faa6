package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTrustPrintsTheNamedIntegration pins that --integration picks the integration whose trust is
// printed: with AWS integration a attached to s1 for read and b for write, asking for a's write
// trust is refused (exit 1, nothing on stdout) rather than answered with b's, and each attached one
// gets its own ExternalId. Leaving out --stack is a usage error naming --stack.
// Guards against: trust.go:65 Integration: *integration -> "" (the flag ignored)
// Guards against: trust.go:41 case *stack == "" dropped (the message then calls "" not an id)
func TestTrustPrintsTheNamedIntegration(t *testing.T) {
	path := writeFile(t, "broker.yaml", `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: a, space: root, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/a"}}
  - {id: b, space: root, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/b"}}
attachments:
  - {stack: s1, integration: a, read: true}
  - {stack: s1, integration: b, write: true}
`)
	for _, tc := range []struct{ integration, scope, externalID string }{
		{"a", "read", "broker.example.com@a@s1@read"},
		{"b", "write", "broker.example.com@b@s1@write"},
		{"a", "write", ""}, // a is attached for read only
		{"b", "read", ""},  // b is attached for write only
	} {
		t.Run(tc.integration+" "+tc.scope, func(t *testing.T) {
			r := runCLI(nil, "trust", "aws", "--config", path, "--stack", "s1", "--scope", tc.scope,
				"--integration", tc.integration, "--aws-principal", "arn:aws:iam::111122223333:role/broker")
			if tc.externalID == "" {
				if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "not attached") {
					t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing printed, and not attached", r.code, r.stdout, r.stderr)
				}
				return
			}
			var policy struct {
				Statement []struct {
					Condition map[string]map[string][]string
				}
			}
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &policy) != nil || len(policy.Statement) != 1 {
				t.Fatalf("exit %d, stderr %q, stdout %q; want 0 and one statement", r.code, r.stderr, r.stdout)
			}
			if got := fmt.Sprint(policy.Statement[0].Condition["StringEquals"]["sts:ExternalId"]); got != "["+tc.externalID+"]" {
				t.Errorf("ExternalId %s, want [%s]", got, tc.externalID)
			}
		})
	}
	r := runCLI(nil, "trust", "aws", "--config", path, "--scope", "read")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--stack is required") || r.stdout != "" {
		t.Errorf("without --stack: exit %d, stderr %q, stdout %q; want 2 and --stack is required", r.code, r.stderr, r.stdout)
	}
}

// TestTrustFromALiveBrokerChecksTheFileRules pins that broker trust refuses (exit 1, nothing on
// stdout) a live broker whose objects do not pass the configuration file's rules, here a stack
// listed in a space that does not exist, rather than print a trust policy from them.
// Guards against: trust_live.go:42 cfg.ValidateObjects() check dropped
func TestTrustFromALiveBrokerChecksTheFileRules(t *testing.T) {
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", trustObjects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/stacks/ghost/attachments" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"attachments":[]}`))
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, b.url+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/v1/stacks" && resp.StatusCode == http.StatusOK {
			var list map[string]any
			if err := json.Unmarshal(body, &list); err != nil {
				t.Errorf("stack listing: %v", err)
			}
			stacks, _ := list["stacks"].([]any)
			if len(stacks) == 0 {
				t.Errorf("stack listing without stacks: %s", body)
			} else {
				ghost := map[string]any{}
				for k, v := range stacks[0].(map[string]any) {
					ghost[k] = v
				}
				ghost["id"], ghost["space"] = "ghost", "nowhere"
				list["stacks"] = append(stacks, ghost)
				body, _ = json.Marshal(list)
			}
		}
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	defer front.Close()
	if r := runCLI(map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveReader}, "trust", "aws", "--stack", "vpc", "--scope", "read"); r.code != 0 {
		t.Fatalf("trust on the broker itself: %+v", r)
	}
	r := runCLI(map[string]string{"BROKER_URL": front.URL, "BROKER_API_KEY": liveReader}, "trust", "aws", "--stack", "vpc", "--scope", "read")
	if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "configuration rules") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing printed, and the objects refused", r.code, r.stdout, r.stderr)
	}
}
