package awsemu

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	account      = "123456789012"
	readRole     = "arn:aws:iam::" + account + ":role/broker-read"
	wildRole     = "arn:aws:iam::" + account + ":role/broker-any-stack"
	otherRole    = "arn:aws:iam::" + account + ":role/other-provider"
	badIDPRole   = "arn:aws:iam::" + account + ":role/unreachable-provider"
	assumeTarget = "arn:aws:iam::" + account + ":role/path/broker-assume"
	// untagged is assumeTarget's twin whose trust policy does not allow sts:TagSession.
	untagged    = "arn:aws:iam::" + account + ":role/path/broker-untagged"
	readSubject = "space:root:stack:vpc:run_type:TRACKED:scope:read"
	accessKey   = "AKIAEXAMPLEBROKER01"
	secretKey   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	externalID  = "broker.example:8443@aws-prod@vpc@read"
)

// fixture is an emulator with a test issuer trusted by its roles.
type fixture struct {
	iss   *oidctest.Issuer
	other *oidctest.Issuer
	emu   *Emulator
	srv   *httptest.Server
	// badIDP is an issuer URL whose discovery answers 500.
	badIDP string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{iss: oidctest.Start(t), other: oidctest.Start(t)}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(bad.Close)
	f.badIDP = bad.URL
	f.emu = New(Config{
		Roles: []Role{
			{ARN: readRole, Trust: Trust{Issuer: f.iss.URL, Audiences: []string{"sts.amazonaws.com"}, Subject: readSubject, TagSession: true}},
			{ARN: wildRole, Trust: Trust{Issuer: f.iss.URL, Audiences: []string{"sts.amazonaws.com", "custom-aud"},
				Subject: "space:root:stack:*:run_type:TRACKED:scope:read"}, MaxSessionDuration: 4 * time.Hour},
			{ARN: otherRole, Trust: Trust{Issuer: f.other.URL, Audiences: []string{"sts.amazonaws.com"}}},
			{ARN: badIDPRole, Trust: Trust{Issuer: f.badIDP, Audiences: []string{"sts.amazonaws.com"}}},
			{ARN: assumeTarget, Trust: Trust{ExternalID: externalID, Principals: []string{accessKey}, TagSession: true, SetSourceIdentity: true}},
			{ARN: untagged, Trust: Trust{ExternalID: externalID, Principals: []string{accessKey}}},
		},
		AccessKeys: map[string]string{accessKey: secretKey, "AKIAUNTRUSTED0000001": "another-secret-key-value-0000000000000000"},
	})
	f.srv = httptest.NewServer(f.emu)
	t.Cleanup(f.srv.Close)
	return f
}

// token signs claims for the read role's subject and audience, overridden by extra.
func (f *fixture) token(t *testing.T, extra map[string]any, opts ...func(*oidctest.Token)) string {
	t.Helper()
	claims := map[string]any{"sub": readSubject, "aud": "sts.amazonaws.com"}
	for k, v := range extra {
		claims[k] = v
	}
	tok := oidctest.Token{Claims: claims}
	for _, o := range opts {
		o(&tok)
	}
	return f.iss.Sign(t, tok)
}

// webIdentity returns AssumeRoleWithWebIdentity parameters for the read role.
func webIdentity(token string) url.Values {
	return url.Values{
		"Action": {"AssumeRoleWithWebIdentity"}, "Version": {APIVersion},
		"RoleArn": {readRole}, "RoleSessionName": {"broker-01HZX3"}, "WebIdentityToken": {token},
	}
}

// post sends params form-encoded as the SDK does.
func (f *fixture) post(t *testing.T, params url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

func readResponse(t *testing.T, resp *http.Response) (int, []byte) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// stsError is the ErrorResponse document, decoded independently of the emulator's types.
type stsError struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func decodeError(t *testing.T, body []byte) stsError {
	t.Helper()
	var e stsError
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an STS ErrorResponse: %v\n%s", err, body)
	}
	if e.RequestID == "" {
		t.Errorf("ErrorResponse without RequestId: %s", body)
	}
	return e
}

// stsCredentials are the parts common to both success documents.
type stsCredentials struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	} `xml:"AssumedRoleUser"`
}

type webIdentityDoc struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
	Result  struct {
		stsCredentials
		SubjectFromWebIdentityToken string `xml:"SubjectFromWebIdentityToken"`
		Provider                    string `xml:"Provider"`
		Audience                    string `xml:"Audience"`
	} `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type assumeRoleDoc struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		stsCredentials
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// hs256Token is a token signed with a shared secret, which no OIDC provider may use.
func hs256Token(t *testing.T, iss string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": iss, "sub": readSubject, "aud": "sts.amazonaws.com",
		"exp": 4102444800, "iat": 1700000000})
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lastCall(t *testing.T, e *Emulator) Call {
	t.Helper()
	calls := e.Calls()
	if len(calls) == 0 {
		t.Fatal("emulator recorded no call")
	}
	return calls[len(calls)-1]
}
