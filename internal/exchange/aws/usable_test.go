package aws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// fakeSTS answers every AssumeRoleWithWebIdentity with 200 and the given <Credentials> body.
func fakeSTS(t *testing.T, credentialsXML string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
			`<AssumeRoleWithWebIdentityResult>` + credentialsXML +
			`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/vpc-read/broker-x</Arn><AssumedRoleId>AROAX:broker-x</AssumedRoleId></AssumedRoleUser>` +
			`</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// STS answers that hold no usable temporary credentials (no session token, no expiration, an
// expiration already past) fail the exchange instead of reaching the worker.
func TestRefusesUnusableSTSCredentials(t *testing.T) {
	iss := oidctest.Start(t)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct{ name, creds string }{
		{"no session token", `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId><SecretAccessKey>secretsecretsecret</SecretAccessKey><Expiration>` + future + `</Expiration></Credentials>`},
		{"no expiration", `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId><SecretAccessKey>secretsecretsecret</SecretAccessKey><SessionToken>tok</SessionToken></Credentials>`},
		{"expiration in the past", `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId><SecretAccessKey>secretsecretsecret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>` + past + `</Expiration></Credentials>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := fakeSTS(t, tc.creds)
			x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
			in := config.Integration{ID: "aws-read", Space: "root",
				AWS: &config.AWS{Mode: config.AWSModeWebIdentity, RoleARN: readARN, STSEndpoint: endpoint}}
			creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: in,
				Tokens: &tokenSource{t: t, iss: iss, sub: subject(runs.Read)}})
			if err == nil {
				t.Fatalf("exchange accepted STS credentials with %s: expiresAt=%s env session token=%q",
					tc.name, creds.ExpiresAt.Format(time.RFC3339), creds.Env["AWS_SESSION_TOKEN"])
			}
			var ue *exchange.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 200 {
				t.Errorf("error %v, want an upstream error with status 200", err)
			}
			if strings.Contains(err.Error(), "secretsecretsecret") {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
}

// TestRefusesCredentialsOutlivingDuration: credentials that expire more than
// exchange.LifetimeSlack after the integration's duration are refused; within it they pass.
func TestRefusesCredentialsOutlivingDuration(t *testing.T) {
	iss := oidctest.Start(t)
	for _, tc := range []struct {
		expires time.Duration
		ok      bool
	}{{15 * time.Minute, true}, {19 * time.Minute, true}, {21 * time.Minute, false}, {12 * time.Hour, false}} {
		at := time.Now().Add(tc.expires).UTC().Format(time.RFC3339)
		endpoint := fakeSTS(t, `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId><SecretAccessKey>secretsecretsecret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>`+at+`</Expiration></Credentials>`)
		x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
		in := config.Integration{ID: "aws-read", Space: "root", Duration: 15 * time.Minute,
			AWS: &config.AWS{Mode: config.AWSModeWebIdentity, RoleARN: readARN, STSEndpoint: endpoint}}
		_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: in,
			Tokens: &tokenSource{t: t, iss: iss, sub: subject(runs.Read)}})
		var ue *exchange.UpstreamError
		switch {
		case tc.ok && err != nil:
			t.Errorf("credentials expiring in %s of 15m asked: %v, want them handed on", tc.expires, err)
		case !tc.ok && (!errors.As(err, &ue) || !strings.Contains(ue.Message, "later than the 15m0s asked for")):
			t.Errorf("credentials expiring in %s of 15m asked: %v, want an upstream error naming the lifetime", tc.expires, err)
		}
	}
}

// TestOversizedSTSAnswerNamed pins that an STS answer larger than the 1 MiB cap is not
// read past the cap and is reported as an unanswered call (status 0) saying the response was
// too large, not as a generic network error.
// Guards against: "response too large" case dropped in errors.go:networkReason
func TestOversizedSTSAnswerNamed(t *testing.T) {
	e := newEnv(t)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(strings.Repeat("x", exchange.MaxResponseBytes+1)))
	}))
	t.Cleanup(big.Close)
	in := e.integration("aws-read", readARN)
	in.AWS.STSEndpoint = big.URL
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: in, Tokens: e.tokens(t, runs.Read)})
	up := upstream(t, err)
	if up.Status != 0 || !strings.Contains(up.Message, "response too large") {
		t.Errorf("error %+v, want status 0 saying the response was too large", up)
	}
}
