package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// netTimeoutErr is a net.Error that timed out without being context.DeadlineExceeded, as an
// http.Client's own timeout is.
type netTimeoutErr struct{}

func (netTimeoutErr) Error() string   { return "i/o timeout" }
func (netTimeoutErr) Timeout() bool   { return true }
func (netTimeoutErr) Temporary() bool { return true }

// TestNetworkReasonNamesEachFailure pins the reason given for a call that got no answer:
// an unknown host, a refused or reset connection, an untrusted certificate, a failed TLS
// handshake, an oversized answer and a network timeout each have their own words; anything
// else is a "network error".
// Guards against: errors.go:"host not found" case turned into "network error"
// Guards against: errors.go:"connection reset" case turned into "network error"
// Guards against: errors.go:"TLS certificate not trusted" case turned into "network error"
// Guards against: errors.go:"TLS handshake failed" case turned into "network error"
// Guards against: errors.go:net.Error Timeout() case dropped
func TestNetworkReasonNamesEachFailure(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("operation error STS: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"deadline", wrap(context.DeadlineExceeded), "timeout"},
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "sts.nowhere.invalid", IsNotFound: true}), "host not found"},
		{"refused", wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), "connection refused"},
		{"reset", wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), "connection reset"},
		{"unknown authority", wrap(x509.UnknownAuthorityError{}), "TLS certificate not trusted"},
		{"verification", wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "TLS certificate not trusted"},
		{"hostname", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "sts.example"}), "TLS certificate not trusted"},
		{"invalid certificate", wrap(x509.CertificateInvalidError{Reason: x509.Expired}), "TLS certificate not trusted"},
		{"record header", wrap(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "TLS handshake failed"},
		{"too large", wrap(exchange.ErrResponseTooLarge), "response too large"},
		{"net timeout", wrap(&net.OpError{Op: "read", Err: netTimeoutErr{}}), "timeout"},
		{"other", wrap(errors.New("unexpected EOF")), "network error"},
	} {
		if got := networkReason(tc.err); got != tc.want {
			t.Errorf("%s: networkReason = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestUntrustedSTSCertificateNamed pins that an STS endpoint whose TLS certificate is not
// trusted fails as an unanswered call (status 0) saying so.
// Guards against: errors.go:"TLS certificate not trusted" case turned into "network error"
func TestUntrustedSTSCertificateNamed(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewTLSServer(e.emu)
	t.Cleanup(srv.Close)
	up := readExchangeFailure(t, e, srv.URL)
	host := strings.TrimPrefix(srv.URL, "https://")
	if up.Status != 0 || up.Message != "STS at "+host+" could not be reached: TLS certificate not trusted" {
		t.Errorf("error = %+v", up)
	}
}

// TestUnreadableSTSAnswer pins that an STS answer whose document cannot be parsed fails as an
// upstream error carrying the answer's status and saying the response could not be read.
// Guards against: errors.go:status dropped from the "could not be read" error
// Guards against: errors.go:"status != 0" case dropped (reported as "could not be reached: network
// error")
func TestUnreadableSTSAnswer(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><Expiration>not a time</Expiration>`))
	}))
	t.Cleanup(srv.Close)
	up := readExchangeFailure(t, e, srv.URL)
	host := strings.TrimPrefix(srv.URL, "http://")
	if up.Status != http.StatusOK || up.Message != "STS at "+host+" answered with a response that could not be read" {
		t.Errorf("error = %+v", up)
	}
}

// TestOwnCredentialsBoundedByTimeout pins that broker's own AWS credentials loading for
// longer than the integration's timeout end the assume-role exchange at that timeout with an
// upstream failure (status 0) naming the timeout, not with a plain error nor by waiting for the
// caller.
// Guards against: errors.go:" within <timeout>" dropped from the message
// Guards against: errors.go:baseFailed returns a plain error instead of an *exchange.UpstreamError
// Guards against: sts.go:assumeRole call context without the integration's timeout (WithCancel)
func TestOwnCredentialsBoundedByTimeout(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	hanging := awssdk.CredentialsProviderFunc(func(ctx context.Context) (awssdk.Credentials, error) {
		<-ctx.Done()
		return awssdk.Credentials{}, ctx.Err()
	})
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(), BaseCredentials: hanging})
	in := assumeIntegration("aws-assume-read", assumeRead, endpoint)
	in.Timeout = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := x.Exchange(ctx, exchange.Request{Run: run(runs.Read), Integration: in, Tokens: noTokens{t}})
	if ctx.Err() != nil {
		t.Fatalf("the exchange waited for the caller: %v", err)
	}
	up := upstream(t, err)
	if up.Status != 0 || !strings.Contains(up.Message, "could not be loaded within 100ms") {
		t.Errorf("error = %+v", up)
	}
	if n := len(emu.Calls()); n != 0 {
		t.Errorf("STS saw %d calls", n)
	}
}

// opaqueTokens hands out one fixed token that is not shaped like a JWT.
type opaqueTokens struct{ token string }

func (p opaqueTokens) Token(context.Context, exchange.TokenRequest) (string, error) {
	return p.token, nil
}

// TestEchoedWebIdentityTokenScrubbed pins that the web identity token sent to STS never
// reaches the caller or the log, even when STS echoes it and it is not shaped like a JWT.
// Guards against: sts.go:token not passed as a secret to failed
func TestEchoedWebIdentityTokenScrubbed(t *testing.T) {
	const token = "opaque-web-identity-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
			`<Code>InvalidIdentityToken</Code><Message>token ` + r.PostForm.Get("WebIdentityToken") + ` is not valid</Message></Error>` +
			`<RequestId>r</RequestId></ErrorResponse>`))
	}))
	t.Cleanup(srv.Close)
	var logs logBuffer
	e := newEnv(t)
	in := e.integration("aws-vpc-read", readARN)
	in.AWS.STSEndpoint = srv.URL
	_, err := New(Options{HTTPClient: fastClient(), Logger: logs.logger()}).Exchange(context.Background(),
		exchange.Request{Run: run(runs.Read), Integration: in, Tokens: opaqueTokens{token}})
	up := upstream(t, err)
	if up.Code != "InvalidIdentityToken" || !strings.Contains(up.Message, "[redacted]") {
		t.Errorf("error = %+v, want STS's refusal with the token redacted", up)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(logs.String(), token) {
		t.Errorf("the token reached the error or the log")
	}
}

// TestOnlyA400IsRetriedForItsCode pins that STS's passing error codes make only a 400
// retryable: any other 4xx carrying them is final.
// Guards against: errors.go:"status == 400" widened to "status != 403"
func TestOnlyA400IsRetriedForItsCode(t *testing.T) {
	body := []byte(`<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`)
	for _, status := range []int{401, 404, 409} {
		if Retryable(status, body) {
			t.Errorf("Retryable(%d, Throttling) = true, want false", status)
		}
	}
	if !Retryable(400, body) {
		t.Error("Retryable(400, Throttling) = false, want true")
	}
}

// TestWebIdentityWithoutTokenSource pins that a web-identity exchange given no token
// source fails with a local error before any STS call, instead of panicking.
// Guards against: sts.go:nil token source check dropped
func TestWebIdentityWithoutTokenSource(t *testing.T) {
	e := newEnv(t)
	_, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
		exchange.Request{Run: run(runs.Read), Integration: e.integration("aws-vpc-read", readARN)})
	var up *exchange.UpstreamError
	if err == nil || errors.As(err, &up) {
		t.Errorf("error = %v, want a local error", err)
	}
	if n := len(e.emu.Calls()); n != 0 {
		t.Errorf("STS saw %d calls", n)
	}
}

// TestRefusesSTSCredentialsWithoutKeys pins that an STS answer missing the access key ID
// or the secret access key fails the exchange as an upstream error (status 200) naming the
// missing part, since temporary credentials work only with all three parts.
// Guards against: sts.go:AccessKeyId dropped from the fields checked
// Guards against: sts.go:SecretAccessKey dropped from the fields checked
func TestRefusesSTSCredentialsWithoutKeys(t *testing.T) {
	e := newEnv(t)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct{ missing, creds string }{
		{"AccessKeyId", `<Credentials><SecretAccessKey>secretsecretsecret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>` + future + `</Expiration></Credentials>`},
		{"SecretAccessKey", `<Credentials><AccessKeyId>ASIAEXAMPLE000000001</AccessKeyId><SessionToken>tok</SessionToken><Expiration>` + future + `</Expiration></Credentials>`},
	} {
		t.Run(tc.missing, func(t *testing.T) {
			in := e.integration("aws-vpc-read", readARN)
			in.AWS.STSEndpoint = fakeSTS(t, tc.creds)
			creds, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
				exchange.Request{Run: run(runs.Read), Integration: in, Tokens: e.tokens(t, runs.Read)})
			if err == nil {
				t.Fatalf("credentials without %s handed on: %v", tc.missing, creds.Env)
			}
			if up := upstream(t, err); up.Status != 200 || !strings.Contains(up.Message, "without "+tc.missing) {
				t.Errorf("error = %+v", up)
			}
		})
	}
}

// TestOwnCredentialsRetrievedOnce pins that broker's own AWS credentials given as a
// provider are cached: exchanges reuse them while they have not expired, rather than asking the
// provider again on every call.
// Guards against: sts.go:given provider no longer wrapped in a CredentialsCache
func TestOwnCredentialsRetrievedOnce(t *testing.T) {
	emu, endpoint := assumeEnv(t)
	var retrieved int
	provider := awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
		retrieved++
		return awssdk.Credentials{AccessKeyID: brokerKey, SecretAccessKey: brokerSecret, Source: "probe"}, nil
	})
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient(), BaseCredentials: provider})
	for range 2 {
		if _, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
			Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}}); err != nil {
			t.Fatal(err)
		}
	}
	if retrieved != 1 || len(emu.Calls()) != 2 {
		t.Errorf("provider asked %d times for %d STS calls, want once", retrieved, len(emu.Calls()))
	}
}

// TestDefaultChainLoadedOnce pins that the SDK default chain is loaded on the first
// assume-role exchange and kept: a later change of the environment does not change the
// credentials broker signs with.
// Guards against: sts.go:default chain's provider not kept (loaded again on every exchange)
func TestDefaultChainLoadedOnce(t *testing.T) {
	brokerKeysInEnvironment(t)
	emu, endpoint := assumeEnv(t)
	x := New(Options{Issuer: issuerURL, HTTPClient: fastClient()})
	req := exchange.Request{Run: run(runs.Read), Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}}
	if _, err := x.Exchange(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIANOBODY0000000000")
	if _, err := x.Exchange(context.Background(), req); err != nil {
		t.Fatalf("second exchange: %v", err)
	}
	if calls := emu.Calls(); len(calls) != 2 || calls[1].AccessKey != brokerKey {
		t.Errorf("calls = %+v", calls)
	}
}

// countingTransport records the body of each request it is handed and answers 200.
type countingTransport struct{ bodies []int }

func (p *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := 0
	if req.Body != nil {
		data, _ := io.ReadAll(req.Body)
		n = len(data)
	}
	p.bodies = append(p.bodies, n)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

// TestRequestBodyCap pins that a streamed STS request body of up to 1 MiB is buffered and
// sent whole with a replayable body, and that one byte more is refused before anything is sent.
// Guards against: transport.go:size check "> maxRequestBytes" -> "> maxRequestBytes+1"
// Guards against: transport.go:read limited to maxRequestBytes (an oversized body sent cut)
func TestRequestBodyCap(t *testing.T) {
	for _, tc := range []struct {
		size    int
		refused bool
	}{{maxRequestBytes, false}, {maxRequestBytes + 1, true}} {
		rt := &countingTransport{}
		c := replayingClient{&http.Client{Transport: rt}}
		// A body without GetBody, as the SDK sends it.
		req, err := http.NewRequest(http.MethodPost, "http://sts.example/", io.MultiReader(strings.NewReader(strings.Repeat("a", tc.size))))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if tc.refused {
			if err == nil || len(rt.bodies) != 0 {
				t.Errorf("%d bytes: err %v after %d requests sent, want refused before sending", tc.size, err, len(rt.bodies))
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d bytes: %v", tc.size, err)
		}
		resp.Body.Close()
		if len(rt.bodies) != 1 || rt.bodies[0] != tc.size || req.GetBody == nil {
			t.Errorf("%d bytes: bodies sent %v, GetBody set %v", tc.size, rt.bodies, req.GetBody != nil)
		}
	}
}

// readExchangeFailure runs a read run's web-identity exchange against the STS at endpoint and
// returns its upstream error.
func readExchangeFailure(t *testing.T, e *env, endpoint string) *exchange.UpstreamError {
	t.Helper()
	in := e.integration("aws-vpc-read", readARN)
	in.AWS.STSEndpoint = endpoint
	_, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
		exchange.Request{Run: run(runs.Read), Integration: in, Tokens: e.tokens(t, runs.Read)})
	return upstream(t, err)
}
