package aws

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	account   = "123456789012"
	readARN   = "arn:aws:iam::" + account + ":role/vpc-read"
	writeARN  = "arn:aws:iam::" + account + ":role/vpc-write"
	longARN   = "arn:aws:iam::" + account + ":role/vpc-long"
	runID     = "01HZX3K6Q8V5N2M4P7R9T1W3Y5"
	stack     = "vpc"
	issuerURL = "https://broker.example:8443"
)

// subject is the default sub of a run of the vpc stack at scope.
func subject(scope runs.Scope) string {
	return "space:root:stack:" + stack + ":run_type:TRACKED:scope:" + string(scope)
}

// tokenSource mints broker-shaped tokens with the test issuer and records what was asked.
type tokenSource struct {
	t   testing.TB
	iss *oidctest.Issuer
	sub string
	err error

	mu     sync.Mutex
	reqs   []exchange.TokenRequest
	tokens []string
}

func (s *tokenSource) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	c := map[string]any{"sub": s.sub, "aud": req.Audience, "runId": runID, "callerId": stack}
	if req.AWSSessionTags {
		c["https://aws.amazon.com/tags"] = claims.AWSTags{PrincipalTags: map[string][]string{"stack": {stack}}}
	}
	tok := s.iss.Sign(s.t, oidctest.Token{Claims: c})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	s.tokens = append(s.tokens, tok)
	return tok, nil
}

func (s *tokenSource) requests() []exchange.TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]exchange.TokenRequest(nil), s.reqs...)
}

func (s *tokenSource) lastToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) == 0 {
		return ""
	}
	return s.tokens[len(s.tokens)-1]
}

// env is an STS emulator trusting a test issuer, with read, write and long-session roles.
type env struct {
	iss *oidctest.Issuer
	emu *awsemu.Emulator
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	iss := oidctest.Start(t)
	aud := []string{exchange.AWSAudience}
	emu := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: readARN, Trust: awsemu.Trust{Issuer: iss.URL, Audiences: aud, Subject: subject(runs.Read)}},
		{ARN: writeARN, Trust: awsemu.Trust{Issuer: iss.URL, Audiences: aud, Subject: subject(runs.Write)}},
		{ARN: longARN, MaxSessionDuration: 4 * time.Hour,
			Trust: awsemu.Trust{Issuer: iss.URL, Audiences: []string{"custom-aud"}, Subject: "space:root:stack:*", TagSession: true}},
	}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{iss: iss, emu: emu, srv: srv}
}

// integration is a web-identity integration on the emulator.
func (e *env) integration(id, roleARN string) config.Integration {
	return config.Integration{
		ID: id, Space: "root",
		AWS: &config.AWS{Mode: config.AWSModeWebIdentity, RoleARN: roleARN, STSEndpoint: e.srv.URL},
	}
}

// run is a TRACKED run of the vpc stack at scope.
func run(scope runs.Scope) runs.Run {
	phase := runs.Planning
	if scope == runs.Write {
		phase = runs.Applying
	}
	now := time.Now()
	return runs.Run{ID: runID, Space: "root", Stack: stack, RunType: runs.Tracked, Phase: phase, Scope: scope,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func (e *env) tokens(t *testing.T, scope runs.Scope) *tokenSource {
	return &tokenSource{t: t, iss: e.iss, sub: subject(scope)}
}

// fastClient retries like the default client, without waiting long between attempts.
func fastClient() *http.Client {
	return exchange.NewHTTPClient(exchange.ClientOptions{Backoff: time.Millisecond, Retryable: Retryable})
}

// logBuffer is a concurrency-safe debug log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// upstream asserts err is an *exchange.UpstreamError.
func upstream(t *testing.T, err error) *exchange.UpstreamError {
	t.Helper()
	var up *exchange.UpstreamError
	if !errors.As(err, &up) {
		t.Fatalf("error = %v (%T), want *exchange.UpstreamError", err, err)
	}
	return up
}

func outcomes(e *awsemu.Emulator) []string {
	var out []string
	for _, c := range e.Calls() {
		out = append(out, c.Outcome)
	}
	return out
}

// brokerKeysInEnvironment leaves the SDK's default chain only broker's own keys to find, in the
// environment: no session token, profile, config or credentials file, or instance metadata.
func brokerKeysInEnvironment(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", brokerKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", brokerSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if err := os.WriteFile(filepath.Join(dir, "config"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}
