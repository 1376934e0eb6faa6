package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// TestTrustLiveRefusalsNameTheirCause: broker trust against a live broker says why it
// cannot print: a key not bound on root is told to be one (naming BROKER_API_KEY), a stack the
// broker does not hold is named as missing on the broker, and a discovery document that
// cannot be read is named as discovery's failure, not as an issuer-less one. Each is exit 1,
// one line, nothing on stdout.
// Guards against: trust_live.go errPartialTree not turned into the message naming the root binding
// Guards against: trust_live.go cfg.Stack(stack) check dropped (a later, file-worded error instead)
// Guards against: trust_live.go discovery's error ignored
func TestTrustLiveRefusalsNameTheirCause(t *testing.T) {
	b := startLive(t, liveFile(""))
	objects := writeFile(t, "objects.yaml", trustObjects)
	if r := b.cli(t, liveAdmin, "apply", "-f", objects); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	target, _ := url.Parse(b.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	cases := []struct {
		name, url, key, stack string
		want                  []string
	}{
		{"key bound below root", b.url, liveBaseKey, "vpc",
			[]string{"BROKER_API_KEY", "bound on root"}},
		{"no such stack", b.url, liveReader, "nope", []string{`no stack "nope" on the broker`}},
		{"discovery unreadable", front.URL, liveReader, "vpc", []string{"discovery: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"BROKER_URL": tc.url, "BROKER_API_KEY": tc.key}
			r := runCLI(vars, "trust", "aws", "--stack", tc.stack, "--scope", "read")
			if r.code != exitError || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and one line",
					r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
		})
	}
}

// TestTrustLiveKeepsAutoattachApartFromDirect: an integration that an autoattach rule
// attaches to a stack for read, and that is attached to the same stack directly for write, is
// read from a live broker as one direct attachment plus the rule (the rule's attachment comes
// again from the rule), so broker trust prints it, and prints what the file prints.
// Guards against: trust_live.go liveDirectAttachments keeping autoattach attachments as direct ones
func TestTrustLiveKeepsAutoattachApartFromDirect(t *testing.T) {
	const objects = `spaces:
  - {id: prod, parent: root, inherit: true}
stacks:
  - {id: vpc, space: prod, labels: [net]}
integrations:
  - id: aws
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/net"}
    autoattach: [{label: net, read: true}]
attachments:
  - {stack: vpc, integration: aws, write: true}
`
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", objects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	file := writeFile(t, "broker.yaml", "issuer: http://127.0.0.1:8080\n"+objects)
	for _, scope := range []string{"read", "write"} {
		live := b.cli(t, liveReader, "trust", "aws", "--stack", "vpc", "--scope", scope)
		fromFile := runCLI(nil, "trust", "aws", "--stack", "vpc", "--scope", scope,
			"--config", file)
		if live.code != 0 || fromFile.code != 0 || live.stdout != fromFile.stdout {
			t.Errorf("%s: live %+v\nfrom the file %+v", scope, live, fromFile)
		}
	}
}
