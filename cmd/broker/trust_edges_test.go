package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// TestTrustRefusesBadArguments pins broker trust's argument checks: a --scope other than
// read or write, and a --stack that is no id, are usage errors (exit 2, one line, nothing on
// stdout), and a --stack that may be a secret is not repeated.
// Guards against: trust.go:43 scope check weakened to *scope == ""
// Guards against: trust.go:46 checkID("--stack", ...) dropped
func TestTrustRefusesBadArguments(t *testing.T) {
	cfg := trustConfig(t)
	const secretish = "brk_run_0123456789abcdef0123456789abcdef"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"scope admin", []string{"trust", "vault", "--config", cfg, "--stack", "s1", "--scope", "admin"}, "--scope must be read or write"},
		{"scope READ", []string{"trust", "vault", "--config", cfg, "--stack", "s1", "--scope", "READ"}, "--scope must be read or write"},
		{"stack not an id", []string{"trust", "vault", "--config", cfg, "--stack", "S1", "--scope", "read"}, "is not an id"},
		{"stack a pasted secret", []string{"trust", "vault", "--config", cfg, "--stack", secretish, "--scope", "read"}, "is not an id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(map[string]string{}, tc.args...)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", r.code, r.stdout, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, secretish) {
				t.Errorf("stderr repeats the stack argument: %q", r.stderr)
			}
		})
	}
}

// TestTrustFromALiveBrokerRefusesWhatItCannotRead pins broker trust against a live
// broker: a discovery that names no issuer, and a stack whose attachments cannot be read, are
// errors (exit 1, one line, nothing on stdout), never a trust document rendered without the
// issuer or without another stack's attachments.
// Guards against: trust_live.go:27 disc.Issuer == "" check dropped
// Guards against: trust_live.go:105 errs of liveDirectAttachments ignored
func TestTrustFromALiveBrokerRefusesWhatItCannotRead(t *testing.T) {
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", trustObjects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	target, _ := url.Parse(b.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	cases := []struct {
		name  string
		path  string // the path the front answers itself
		body  string
		code  int
		stack string
		want  string
	}{
		{"discovery without issuer", "/.well-known/openid-configuration", `{"issuer":""}`, http.StatusOK, "vpc", "names no issuer"},
		{"another stack's attachments unreadable", "/v1/stacks/app/attachments", `{"error":{"code":"internal","message":"boom"}}`, http.StatusInternalServerError, "vpc", "attachments of stack app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.code)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer front.Close()
			// The unmodified broker renders it.
			if r := runCLI(map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveReader}, "trust", "aws", "--stack", tc.stack, "--scope", "read"); r.code != 0 {
				t.Fatalf("trust on the broker itself: %+v", r)
			}
			r := runCLI(map[string]string{"BROKER_URL": front.URL, "BROKER_API_KEY": liveReader}, "trust", "aws", "--stack", tc.stack, "--scope", "read")
			if r.code != exitError || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one line with %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}
