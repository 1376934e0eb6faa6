package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// googleSeen is what recordingGoogle received: the STS form and the generateAccessToken request
// URL.
type googleSeen struct {
	mu       sync.Mutex
	stsForm  url.Values
	iamPaths []string
	iamQuery []string
}

// recordingGoogle answers STS with a federated token and any other POST as generateAccessToken,
// recording both requests.
func recordingGoogle(t *testing.T) (string, *googleSeen) {
	t.Helper()
	seen := &googleSeen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		seen.mu.Lock()
		defer seen.mu.Unlock()
		if r.URL.Path == "/v1/token" {
			_ = r.ParseForm()
			seen.stsForm = r.PostForm
			_ = json.NewEncoder(w).Encode(map[string]any{
				"access_token":      "federated-token-0123456789",
				"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
				"token_type":        "Bearer", "expires_in": 3600})
			return
		}
		seen.iamPaths = append(seen.iamPaths, r.URL.EscapedPath())
		seen.iamQuery = append(seen.iamQuery, r.URL.RawQuery)
		_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": "ya29.test-access-token",
			"expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, seen
}

// exchangeAs runs one exchange of a read run for service account sa against base.
func exchangeAs(t *testing.T, base, sa string) (*fakeTokens, error) {
	t.Helper()
	tokens := &fakeTokens{t: t, iss: oidctest.Start(t), scope: "read"}
	in := config.Integration{ID: "gcp-read", Timeout: 10 * time.Second, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: sa,
		STSEndpoint: base, IAMCredentialsEndpoint: base}}
	_, err := New(Options{HTTPClient: &http.Client{}}).Exchange(context.Background(),
		exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
			Integration: in, Tokens: tokens})
	return tokens, err
}

// TestSTSRequestForm: the STS call is an RFC 8693 token exchange whose subject token is
// the broker token just minted, typed as a JWT (contract section 6), for the provider's full
// resource name.
// Guards against: subject_token_type changed from urn:ietf:params:oauth:token-type:jwt
func TestSTSRequestForm(t *testing.T) {
	base, seen := recordingGoogle(t)
	tokens, err := exchangeAs(t, base, readerSA)
	if err != nil {
		t.Fatal(err)
	}
	_, minted := tokens.snapshot()
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for name, want := range map[string]string{
		"grant_type":         "urn:ietf:params:oauth:grant-type:token-exchange",
		"subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
		"audience":           "//iam.googleapis.com/" + testProvider,
	} {
		if got := seen.stsForm.Get(name); got != want {
			t.Errorf("STS %s = %q, want %q", name, got, want)
		}
	}
	if len(minted) != 1 || seen.stsForm.Get("subject_token") != minted[0] {
		t.Errorf("STS subject_token is not the one broker token minted (%d minted)", len(minted))
	}
}

// TestServiceAccountIsOnePathSegment: the service account goes into the
// generateAccessToken URL as one escaped path segment, so that characters the configuration
// lets through ('/', '?', '#') can neither climb to another path nor start a query.
// Guards against: url.PathEscape dropped from the service account in the IAM URL
func TestServiceAccountIsOnePathSegment(t *testing.T) {
	const sa = "x/../../y?z#w@demo.iam.gserviceaccount.com"
	base, seen := recordingGoogle(t)
	if _, err := exchangeAs(t, base, sa); err != nil {
		t.Fatal(err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	want := "/v1/projects/-/serviceAccounts/x%2F..%2F..%2Fy%3Fz%23w@demo.iam.gserviceaccount.com" +
		":generateAccessToken"
	if len(seen.iamPaths) != 1 || seen.iamPaths[0] != want || seen.iamQuery[0] != "" {
		t.Errorf("generateAccessToken at %q query %q, want one call at %q", seen.iamPaths,
			seen.iamQuery, want)
	}
}

// deadlineTokens hands out a fixed token and records the deadline of the context it is
// asked under.
type deadlineTokens struct {
	mu       sync.Mutex
	deadline time.Time
	has      bool
}

func (p *deadlineTokens) Token(ctx context.Context, _ exchange.TokenRequest) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deadline, p.has = ctx.Deadline()
	return "opaque-subject-token-0123456789", nil
}

// lateTokens answers only once the context it is asked under has ended, and then with a
// token all the same, as a signer that finishes its work regardless would.
type lateTokens struct{}

func (lateTokens) Token(ctx context.Context, _ exchange.TokenRequest) (string, error) {
	<-ctx.Done()
	return "opaque-subject-token-0123456789", nil
}

// runBounded runs one exchange of a read run against base with tokens and timeout.
type runBounded struct {
	base    string
	tokens  exchange.TokenSource
	timeout time.Duration
}

func runExchange(t *testing.T, r runBounded) error {
	t.Helper()
	in := config.Integration{ID: "gcp-read", Timeout: r.timeout, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA,
		STSEndpoint: r.base, IAMCredentialsEndpoint: r.base}}
	_, err := New(Options{HTTPClient: &http.Client{}}).Exchange(context.Background(),
		exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
			Integration: in, Tokens: r.tokens})
	return err
}

// TestWholeExchangeBoundIsTwiceTheTimeout: the whole exchange, minting the subject token
// included, runs under a deadline of twice the integration's timeout (the 10s default when it
// sets none), not a looser one, even when the caller sets none.
// Guards against: overall bound widened from 2*timeout (4*timeout)
// Guards against: integration timeout taken as is, without exchange.Timeout's default (expired at
// once)
func TestWholeExchangeBoundIsTwiceTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, want time.Duration
	}{
		{time.Minute, 2 * time.Minute},
		{0, 2 * config.DefaultIntegrationTimeout},
	} {
		base, _ := recordingGoogle(t)
		tokens := &deadlineTokens{}
		before := time.Now()
		err := runExchange(t, runBounded{base: base, tokens: tokens, timeout: tc.timeout})
		if err != nil {
			t.Fatalf("timeout %s: %v", tc.timeout, err)
		}
		after := time.Now()
		tokens.mu.Lock()
		if !tokens.has || tokens.deadline.Before(before.Add(tc.want)) ||
			tokens.deadline.After(after.Add(tc.want)) {
			t.Errorf("timeout %s: token minted under deadline %v (set: %v), want %s",
				tc.timeout, tokens.deadline.Sub(before), tokens.has, tc.want)
		}
		tokens.mu.Unlock()
	}
}

// TestOverallBoundIsUpstreamFailure: when the exchange's own overall bound ends it (the
// subject token arrived too late for STS to be asked), the failure is an upstream error with
// no status naming the STS step, not the caller's context error; and it does not claim that
// the per-call bound fired.
// Guards against: explain given the exchange's bounded context instead of the caller's
// Guards against: "no answer within" rewrite no longer limited to the per-call bound
func TestOverallBoundIsUpstreamFailure(t *testing.T) {
	base, _ := recordingGoogle(t)
	err := runExchange(t, runBounded{base: base, tokens: lateTokens{},
		timeout: 100 * time.Millisecond})
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v (%T), want an upstream error, not a context error", err, err)
	}
	if up.Status != 0 || !strings.HasPrefix(up.Message, "STS token exchange: ") ||
		strings.Contains(up.Message, "no answer within") {
		t.Errorf("error %+v", up)
	}
	if strings.Contains(err.Error(), "opaque-subject-token-0123456789") {
		t.Errorf("error holds the subject token: %v", err)
	}
}

const opaqueSubject = "opaque-subject-token-0123456789"

// echoTransport fails every call with an error quoting the subject token it carries, as
// a proxy or middleware that reports what it could not send might.
type echoTransport struct{}

func (echoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	return nil, errors.New("proxy refused to forward " + form.Get("subject_token"))
}

// exchangeWith runs one exchange of a read run against base, on a client with transport rt
// (http.DefaultTransport when nil), with the fixed opaque subject token opaqueSubject.
func exchangeWith(t *testing.T, base string, rt http.RoundTripper) error {
	t.Helper()
	if rt == nil {
		rt = http.DefaultTransport
	}
	in := config.Integration{ID: "gcp-read", Timeout: 10 * time.Second, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA,
		STSEndpoint: base, IAMCredentialsEndpoint: base}}
	_, err := New(Options{HTTPClient: &http.Client{Transport: rt}}).Exchange(context.Background(),
		exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
			Integration: in, Tokens: opaqueTokens{opaqueSubject}})
	return err
}

// TestTransportErrorScrubbed: a call that got no answer is an upstream error without
// status, and the subject token never reaches it, even when the transport's error quotes it
// and it is not shaped like a JWT.
// Guards against: secrets not given to Upstream for an answer that never came
func TestTransportErrorScrubbed(t *testing.T) {
	err := exchangeWith(t, "http://127.0.0.1:9", echoTransport{})
	up := upstreamOf(t, err)
	if up.Status != 0 || !strings.HasPrefix(up.Message, "STS token exchange: ") ||
		strings.Contains(err.Error(), opaqueSubject) {
		t.Errorf("error %v, want an STS failure without the subject token", err)
	}
}

// TestUnusableAnswerScrubbed: a 2xx generateAccessToken answer the client cannot parse is
// an upstream error that never passes on the federated token, even when the client's error
// quotes it (Google's client quotes an unparseable expireTime).
// Guards against: secrets not given to Upstream for an unusable 2xx answer
func TestUnusableAnswerScrubbed(t *testing.T) {
	const federated = "federated-opaque-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/token" {
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": federated,
				"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
				"token_type":        "Bearer", "expires_in": 3600})
			return
		}
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": "ya29.x", "expireTime": bearer})
	}))
	t.Cleanup(srv.Close)
	err := exchangeWith(t, srv.URL, nil)
	up := upstreamOf(t, err)
	if up.Status != http.StatusOK || !strings.Contains(up.Message, "unusable answer") ||
		strings.Contains(err.Error(), federated) {
		t.Errorf("error %v, want an unusable answer without the federated token", err)
	}
}

// TestRedirectAnswerIsNamedByItsStatus: an upstream answering with a redirect fails with
// that status, named as the answer it is (its status text when it has no body), not as an
// unusable success.
// Guards against: 3xx answers counted with the 2xx ones in explain
func TestRedirectAnswerIsNamedByItsStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "http://127.0.0.1:9/elsewhere")
		w.WriteHeader(http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	up := upstreamOf(t, exchangeWith(t, srv.URL, nil))
	if up.Status != http.StatusFound || up.Message != "STS token exchange: Found" {
		t.Errorf("error %+v, want 302 with message %q", up, "STS token exchange: Found")
	}
}

// TestIssuerUnreachableWording: Google STS's invalid_grant beginning "Error connecting to
// the given credential's issuer" (it could not fetch broker's discovery document or JWKS) is a
// passing failure, not a refusal of the caller.
// Guards against: the issuerUnreachable wording changed (tests built from the constant itself pass)
func TestIssuerUnreachableWording(t *testing.T) {
	endpoint := invalidGrantServer(t, "Error connecting to the given credential's issuer.")
	up := upstreamOf(t, exchangeWith(t, endpoint, nil))
	if up.Code != "invalid_grant" || up.Denied() || !up.Throttled {
		t.Errorf("error %+v: Denied %v, want a passing failure", up, up.Denied())
	}
}

// TestBareBadRequestIsRefusal: a 400 without Google's error document (a proxy's page) is
// a refusal of the caller, not a passing failure: only STS's invalid_grant saying it could not
// reach the issuer is one.
// Guards against: Throttled also set for a 400 without an error code
func TestBareBadRequestIsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html>Bad Request</html>"))
	}))
	t.Cleanup(srv.Close)
	up := upstreamOf(t, exchangeWith(t, srv.URL, nil))
	if up.Status != http.StatusBadRequest || up.Code != "" || !up.Denied() || up.Throttled {
		t.Errorf("error %+v: Denied %v, want a refusal", up, up.Denied())
	}
}

// fixedGoogleTransport plays Google on any host without a network: it records each request's
// URL and generateAccessToken's scopes, and answers as STS or IAM Credentials by the path.
type fixedGoogleTransport struct {
	mu     sync.Mutex
	urls   []string
	scopes []string
}

func (p *fixedGoogleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.urls = append(p.urls, r.URL.String())
	answer := map[string]any{"access_token": "federated-token-0123456789",
		"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
		"token_type":        "Bearer", "expires_in": 3600}
	if r.URL.Path != "/v1/token" {
		var req struct {
			Scope []string `json:"scope"`
		}
		_ = json.Unmarshal(body, &req)
		p.scopes = req.Scope
		answer = map[string]any{"accessToken": "ya29.test-access-token",
			"expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	}
	data, _ := json.Marshal(answer)
	return &http.Response{StatusCode: http.StatusOK, Request: r,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(data)), ContentLength: int64(len(data))}, nil
}

// TestProductionDefaults: without endpoints or scopes configured, the exchange posts to
// https://sts.googleapis.com/v1/token and to generateAccessToken at
// https://iamcredentials.googleapis.com, asking for the cloud-platform scope.
// Guards against: DefaultSTSEndpoint changed
// Guards against: DefaultIAMCredentialsEndpoint changed
// Guards against: STS URL built from the IAM Credentials default
// Guards against: DefaultScope changed
func TestProductionDefaults(t *testing.T) {
	rt := &fixedGoogleTransport{}
	in := config.Integration{ID: "gcp-read", Timeout: 10 * time.Second, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA}}
	_, err := New(Options{HTTPClient: &http.Client{Transport: rt}}).Exchange(context.Background(),
		exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
			Integration: in, Tokens: opaqueTokens{"opaque-subject-token-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	want := []string{"https://sts.googleapis.com/v1/token",
		"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/" + readerSA +
			":generateAccessToken"}
	if len(rt.urls) != 2 || rt.urls[0] != want[0] || rt.urls[1] != want[1] {
		t.Errorf("calls %q, want %q", rt.urls, want)
	}
	if len(rt.scopes) != 1 || rt.scopes[0] != "https://www.googleapis.com/auth/cloud-platform" {
		t.Errorf("scopes %q, want cloud-platform", rt.scopes)
	}
}

// invalidGrantServer answers every call as Google STS refuses a token, 400 invalid_grant with
// description, and returns its URL.
func invalidGrantServer(t *testing.T, description string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": description})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
