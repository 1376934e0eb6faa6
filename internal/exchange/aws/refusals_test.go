package aws

import (
	"context"
	"errors"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestLocalRefusalsCallNothing pins that an integration broker cannot serve as configured (no role
// ARN; assume-role without broker's issuer for the ExternalId) is refused before any STS call and
// any token is minted, with a local error rather than an upstream one.
// Guards against: empty role_arn check dropped in exchanger.go:Exchange
// Guards against: empty issuer host check dropped (ExternalId "@integration@stack@scope" sent) in
// sts.go:assumeRole
func TestLocalRefusalsCallNothing(t *testing.T) {
	e := newEnv(t)
	emu, endpoint := assumeEnv(t)
	noRole := e.integration("aws-no-role", "")
	tests := []struct {
		name string
		x    *Exchanger
		req  exchange.Request
	}{
		{"web identity without role_arn", New(Options{HTTPClient: fastClient()}),
			exchange.Request{Run: run(runs.Read), Integration: noRole, Tokens: noTokens{t}}},
		{"assume-role without issuer", New(Options{HTTPClient: fastClient(),
			BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")}),
			exchange.Request{Run: run(runs.Read), Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.x.Exchange(context.Background(), tt.req)
			var up *exchange.UpstreamError
			if err == nil || errors.As(err, &up) {
				t.Errorf("error = %v, want a local configuration error", err)
			}
		})
	}
	if n := len(e.emu.Calls()) + len(emu.Calls()); n != 0 {
		t.Errorf("STS saw %d calls", n)
	}
}

// TestModeUnsetIsWebIdentity pins that an AWS integration naming no mode exchanges a web
// identity token (the default mode), never broker's own credentials.
// Guards against: "" no longer accepted as web-identity in exchanger.go:Exchange
func TestModeUnsetIsWebIdentity(t *testing.T) {
	e := newEnv(t)
	in := e.integration("aws-vpc-read", readARN)
	in.AWS.Mode = ""
	tokens := e.tokens(t, runs.Read)
	creds, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
		exchange.Request{Run: run(runs.Read), Integration: in, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	if calls := e.emu.Calls(); len(calls) != 1 || calls[0].Action != "AssumeRoleWithWebIdentity" {
		t.Errorf("calls = %+v, want one AssumeRoleWithWebIdentity", calls)
	}
	if creds.Env["AWS_SESSION_TOKEN"] == "" || len(tokens.requests()) != 1 {
		t.Errorf("env %v after %d token requests", creds.Env, len(tokens.requests()))
	}
}

// TestCallerCancelsWhileOwnCredentialsLoad pins that a caller giving up while broker's own
// AWS credentials are loading ends the assume-role exchange with the caller's context error, not
// with an upstream failure.
// Guards against: caller's ctx check dropped in errors.go:baseFailed
func TestCallerCancelsWhileOwnCredentialsLoad(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	hanging := awssdk.CredentialsProviderFunc(func(ctx context.Context) (awssdk.Credentials, error) {
		<-ctx.Done()
		return awssdk.Credentials{}, ctx.Err()
	})
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(), BaseCredentials: hanging})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	in := assumeIntegration("aws-assume-read", assumeRead, endpoint)
	in.Timeout = 5 * time.Second
	_, err := x.Exchange(ctx, exchange.Request{Run: run(runs.Read), Integration: in, Tokens: noTokens{t}})
	var up *exchange.UpstreamError
	if !errors.Is(err, context.Canceled) || errors.As(err, &up) {
		t.Errorf("error = %v (%T), want the caller's context.Canceled", err, err)
	}
	if n := len(emu.Calls()); n != 0 {
		t.Errorf("STS saw %d calls", n)
	}
}
