package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	awsx "github.com/brokerhq/broker/internal/exchange/aws"
	"github.com/brokerhq/broker/internal/runs"
)

// An assume-role exchange whose own AWS credentials (instance role, container endpoint, SSO...)
// do not load in time, or at all, is an upstream failure (502 upstream_error) that says so, not
// a store outage (503) nor an internal error (500): the store was never involved.
func TestBaseCredentialsFailureIsAnUpstreamError(t *testing.T) {
	slow := awssdk.CredentialsProviderFunc(func(ctx context.Context) (awssdk.Credentials, error) {
		<-ctx.Done()
		return awssdk.Credentials{}, ctx.Err()
	})
	missing := awssdk.CredentialsProviderFunc(func(ctx context.Context) (awssdk.Credentials, error) {
		return awssdk.Credentials{}, errors.New("no EC2 IMDS role found at http://169.254.169.254")
	})
	for _, tc := range []struct {
		name string
		base awssdk.CredentialsProvider
		want string
	}{
		{"slow", slow, "could not be loaded within 50ms"},
		{"missing", missing, "could not be loaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := awsx.New(awsx.Options{Issuer: "https://broker.example", BaseCredentials: tc.base})
			now := time.Now()
			run := runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", RunType: runs.Tracked, Phase: runs.Planning, Scope: runs.Read,
				CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			in := config.Integration{ID: "aws-assume", Space: "root", Timeout: 50 * time.Millisecond,
				AWS: &config.AWS{Mode: config.AWSModeAssumeRole, RoleARN: "arn:aws:iam::123456789012:role/r", STSEndpoint: "http://127.0.0.1:1/"}}
			_, err := x.Exchange(context.Background(), exchange.Request{Run: run, Integration: in})
			if err == nil {
				t.Fatal("exchange succeeded")
			}
			w := httptest.NewRecorder()
			fail(w, httptest.NewRequest(http.MethodPost, "/v1/credentials", nil), slog.New(slog.DiscardHandler), exchangeError(exchange.AWS, err))
			var env struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &env)
			if w.Code != http.StatusBadGateway || env.Error.Code != "upstream_error" || !strings.Contains(env.Error.Message, tc.want) {
				t.Errorf("answered %d %s %q, want 502 upstream_error saying %q (exchange error: %v)", w.Code, env.Error.Code, env.Error.Message, tc.want, err)
			}
			if strings.Contains(env.Error.Message, "169.254") {
				t.Errorf("the answer passes the credential chain's own words on: %q", env.Error.Message)
			}
		})
	}
}
