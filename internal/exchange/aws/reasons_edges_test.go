package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestNetworkReasonDNSTimeoutAndPlainNetError: a name lookup that ran out of time (the
// resolver's own timeout wraps context.DeadlineExceeded) is a timeout, not an unknown host; a
// network error that is not a timeout is a "network error", not a timeout.
// Guards against: networkReason without its context.DeadlineExceeded case
// Guards against: networkReason naming every net.Error a timeout, Timeout() unchecked
func TestNetworkReasonDNSTimeoutAndPlainNetError(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("operation error STS: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"dns lookup timed out", wrap(&net.DNSError{Err: "i/o timeout", Name: "sts.example",
			IsTimeout: true, UnwrapErr: context.DeadlineExceeded}), "timeout"},
		{"net error, no timeout", wrap(&net.OpError{Op: "read", Net: "tcp",
			Err: errors.New("protocol wrong type for socket")}), "network error"},
	} {
		if got := networkReason(tc.err); got != tc.want {
			t.Errorf("%s: networkReason = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRetryableNeedsKeysUnreachableAtStart: an InvalidIdentityToken is retried only when
// its message starts with STS's "could not retrieve the verification key" words; one that only
// quotes them further on is a refusal and is not retried.
// Guards against: passing matching provider.AWSIssuerUnreachable anywhere in the message (Contains for HasPrefix)
func TestRetryableNeedsKeysUnreachableAtStart(t *testing.T) {
	body := []byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
		`<Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Token refused; earlier: ` +
		provider.AWSIssuerUnreachable + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
	if Retryable(400, body) {
		t.Errorf("Retryable(400, %s) = true, want false", body)
	}
}

// failingChain is broker's own credentials provider failing with a fixed error text.
type failingChain struct{ text string }

func (p failingChain) Retrieve(context.Context) (awssdk.Credentials, error) {
	return awssdk.Credentials{}, errors.New(p.text)
}

// TestOwnCredentialsFailureSaysOnlyThatTheyDidNotLoad: when broker's own AWS credentials
// do not load, the error passed on is an upstream failure (status 0) saying only that, pointing
// at the server log; the chain's own words (file paths, profile names, process output) are not
// passed on to the caller.
// Guards against: baseFailed appending the chain's error text to the message passed on
func TestOwnCredentialsFailureSaysOnlyThatTheyDidNotLoad(t *testing.T) {
	const words = "open /home/ops-team/.aws/credentials: permission denied"
	_, endpoint := assumeEnv(t)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(),
		BaseCredentials: failingChain{text: words}})
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint),
		Tokens:      noTokens{t}})
	up := upstream(t, err)
	if up.Status != 0 || !strings.Contains(up.Message, "could not be loaded") {
		t.Errorf("error = %+v, want status 0 saying the credentials could not be loaded", up)
	}
	if strings.Contains(err.Error(), "ops-team") || strings.Contains(err.Error(), "permission") {
		t.Errorf("error passed on quotes the credential chain: %v", err)
	}
}

// stsOnce answers the first call with STS's 400 IDPCommunicationError and every later
// one with usable credentials; calls counts them.
func stsOnce(t *testing.T, calls *atomic.Int32) string {
	t.Helper()
	exp := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type>` +
				`<Code>IDPCommunicationError</Code><Message>idp unreachable</Message></Error>` +
				`<RequestId>r</RequestId></ErrorResponse>`))
			return
		}
		_, _ = w.Write([]byte(`<AssumeRoleWithWebIdentityResponse>` +
			`<AssumeRoleWithWebIdentityResult>` +
			`<Credentials><AccessKeyId>ASIATEST00000000001A</AccessKeyId>` +
			`<SecretAccessKey>testSecrettestSecret</SecretAccessKey>` +
			`<SessionToken>testSessionToken</SessionToken><Expiration>` + exp + `</Expiration>` +
			`</Credentials></AssumeRoleWithWebIdentityResult>` +
			`<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>` +
			`</AssumeRoleWithWebIdentityResponse>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDefaultClientRetriesPassingSTSErrors: an Exchanger built without an HTTP client
// uses the shared client with AWS's retry rule, so a 400 IDPCommunicationError (STS could not
// reach broker's keys) is retried, not handed back as a refusal.
// Guards against: New's default client built without Retryable
func TestDefaultClientRetriesPassingSTSErrors(t *testing.T) {
	var calls atomic.Int32
	endpoint := stsOnce(t, &calls)
	x := New(Options{Issuer: issuerURL})
	in := config.Integration{ID: "aws-read", Space: "root",
		AWS: &config.AWS{Mode: config.AWSModeWebIdentity, RoleARN: readARN, STSEndpoint: endpoint}}
	creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: in,
		Tokens:      &tokenSource{t: t, iss: oidctest.Start(t), sub: subject(runs.Read)}})
	if err != nil {
		t.Fatalf("exchange: %v (STS calls: %d), want the 400 IDPCommunicationError retried",
			err, calls.Load())
	}
	if got := creds.Env["AWS_ACCESS_KEY_ID"]; got != "ASIATEST00000000001A" || calls.Load() != 2 {
		t.Errorf("access key %q after %d calls, want ASIATEST00000000001A after 2",
			got, calls.Load())
	}
}

// TestRefusesCredentialsExpiringWithinMinValidity: STS credentials that are still valid
// but expire less than exchange.MinValidity from now are refused (status 200 upstream error),
// measured from the moment they arrive.
// Guards against: succeeded checking the expiry against a clock set back (Now earlier
// than time.Now)
func TestRefusesCredentialsExpiringWithinMinValidity(t *testing.T) {
	soon := time.Now().Add(exchange.MinValidity / 3).UTC().Format(time.RFC3339)
	endpoint := fakeSTS(t, `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId>`+
		`<SecretAccessKey>secretsecretsecret</SecretAccessKey><SessionToken>tok</SessionToken>`+
		`<Expiration>`+soon+`</Expiration></Credentials>`)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
	in := config.Integration{ID: "aws-read", Space: "root",
		AWS: &config.AWS{Mode: config.AWSModeWebIdentity, RoleARN: readARN, STSEndpoint: endpoint}}
	creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: in,
		Tokens:      &tokenSource{t: t, iss: oidctest.Start(t), sub: subject(runs.Read)}})
	if err == nil {
		t.Fatalf("exchange accepted credentials expiring at %s",
			creds.ExpiresAt.Format(time.RFC3339))
	}
	if up := upstream(t, err); up.Status != 200 {
		t.Errorf("error = %+v, want an upstream error with status 200", up)
	}
}
