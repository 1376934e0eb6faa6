package awsemu

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// clockedFixture is an emulator whose clock stands still at now, where accessKey may
// assume assumeTarget with externalID.
func clockedFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	emu := New(Config{
		Roles: []Role{{ARN: assumeTarget,
			Trust: Trust{ExternalID: externalID, Principals: []string{accessKey}}}},
		AccessKeys: map[string]string{accessKey: secretKey},
		Now:        func() time.Time { return now },
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{emu: emu, srv: srv}
}

// TestClockSkewLimitToTheSecond: a request signed up to 15 minutes from the emulator's
// clock, either way, is taken; one signed a second beyond is refused 403 SignatureDoesNotMatch.
// Guards against: sigv4.go:expired-signature bound widened by a second
// Guards against: sigv4.go:not-yet-current bound widened by a second
func TestClockSkewLimitToTheSecond(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	f := clockedFixture(t, now)
	all := []string{"content-type", "host", "x-amz-date"}
	for _, tc := range []struct {
		name    string
		at      time.Time
		status  int
		code    string
		message string
	}{
		{"15 minutes ago", now.Add(-maxClockSkew), http.StatusOK, "", ""},
		{"15 minutes ahead", now.Add(maxClockSkew), http.StatusOK, "", ""},
		{"a second more ago", now.Add(-maxClockSkew - time.Second), http.StatusForbidden,
			"SignatureDoesNotMatch", "Signature expired"},
		{"a second more ahead", now.Add(maxClockSkew + time.Second), http.StatusForbidden,
			"SignatureDoesNotMatch", "Signature not yet current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := handSigned(t, f, assumeParams(externalID), tc.at.Format("20060102"),
				tc.at.Format(amzDateFormat), all)
			expectAnswer(t, status, body, tc.status, tc.code, tc.message)
		})
	}
}

// TestCredentialScopeDateIsEightDigits: a credential scope whose date is not YYYYMMDD (here
// empty, which every X-Amz-Date starts with) is refused 400 IncompleteSignature even when the
// signature was computed over that scope.
// Guards against: sigv4.go:parseAuthorization drops the len(cred[1]) != 8 check
func TestCredentialScopeDateIsEightDigits(t *testing.T) {
	f := newFixture(t)
	amz := time.Now().UTC().Format(amzDateFormat)
	status, body := handSigned(t, f, assumeParams(externalID), "", amz,
		[]string{"content-type", "host", "x-amz-date"})
	expectAnswer(t, status, body, http.StatusBadRequest, "IncompleteSignature",
		"Credential must have the form")
}

// TestCredentialNeedsAccessKeyID: an Authorization header whose Credential has no access
// key id is malformed, 400 IncompleteSignature, not an unknown key.
// Guards against: sigv4.go:parseAuthorization drops the cred[0] == "" check
func TestCredentialNeedsAccessKeyID(t *testing.T) {
	f := newFixture(t)
	day := time.Now().UTC().Format("20060102")
	tamper := func(r *http.Request) {
		r.Header.Set("Authorization", sigV4Algorithm+" Credential=/"+day+"/"+DefaultRegion+
			"/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	}
	status, body := f.send(t, signed{params: assumeParams(externalID), afterSign: tamper})
	expectAnswer(t, status, body, http.StatusBadRequest, "IncompleteSignature",
		"Credential must have the form")
}

// signedWithLength hands the emulator params form-encoded, as a server does when it keeps
// the body's length in ContentLength alone, signed over content-length, content-type, host and
// x-amz-date, the content-length being the body's length.
func signedWithLength(t *testing.T, f *fixture, params url.Values) (int, []byte) {
	t.Helper()
	body := params.Encode()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	now := time.Now().UTC()
	amz, day := now.Format(amzDateFormat), now.Format("20060102")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Date", amz)
	req.Header.Set("Content-Length", strconv.Itoa(len(body))) // for signing only
	headers := []string{"content-length", "content-type", "host", "x-amz-date"}
	auth := &sigV4Auth{accessKey: accessKey, date: day, region: DefaultRegion,
		service: sigV4Service, signedHeaders: headers}
	scope := strings.Join([]string{day, DefaultRegion, sigV4Service, sigV4Terminator}, "/")
	canonical := canonicalRequest(req, []byte(body), headers)
	toSign := strings.Join([]string{sigV4Algorithm, amz, scope, hexSHA256([]byte(canonical))}, "\n")
	sig := hex.EncodeToString(hmacSHA256(auth.signingKey(secretKey), []byte(toSign)))
	req.Header.Set("Authorization", sigV4Algorithm+" Credential="+accessKey+"/"+scope+
		", SignedHeaders="+strings.Join(headers, ";")+", Signature="+sig)
	req.Header.Del("Content-Length")
	rec := httptest.NewRecorder()
	f.emu.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// TestSignedContentLength: a signed content-length is canonicalized as the request's
// length even when the server holds it only in ContentLength, not in the header map.
// Guards against: sigv4.go:canonicalHeaderValue drops the content-length case
func TestSignedContentLength(t *testing.T) {
	f := newFixture(t)
	status, body := signedWithLength(t, f, assumeParams(externalID))
	expectAnswer(t, status, body, http.StatusOK, "", "")
}

// TestTildeUnencodedInCanonicalQuery: '~' is unreserved, so a signed GET whose query holds
// one verifies as the SDK signed it.
// Guards against: sigv4.go:uriEncode percent-encodes '~'
func TestTildeUnencodedInCanonicalQuery(t *testing.T) {
	f := newFixture(t)
	p := assumeParams(externalID)
	p.Set("Policy", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject",`+
		`"Resource":"arn:aws:s3:::b/~x"}}`)
	status, body := f.send(t, signed{method: http.MethodGet, params: p})
	expectAnswer(t, status, body, http.StatusOK, "", "")
}

// TestHeaderSpacesCollapsed: a signed header value is canonicalized trimmed, with runs of
// spaces collapsed to one, as the SDK signs it.
// Guards against: sigv4.go:canonicalHeaderValue keeps values as received
func TestHeaderSpacesCollapsed(t *testing.T) {
	f := newFixture(t)
	body := assumeParams(externalID).Encode()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;   charset=utf-8")
	creds := awssdk.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, hexSHA256([]byte(body)), "sts",
		DefaultRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	status, answer := readResponse(t, resp)
	expectAnswer(t, status, answer, http.StatusOK, "", "")
}

// TestLongTermKeyRefusesSessionToken: a request signed with long-term access keys that
// also carries an X-Amz-Security-Token is refused 403 InvalidClientTokenId, as STS refuses a
// session token that does not belong to the signing key.
func TestLongTermKeyRefusesSessionToken(t *testing.T) {
	f := newFixture(t)
	status, body := f.send(t, signed{params: assumeParams(externalID),
		token: "FwoGZXIvYXdzEnotissued"})
	expectAnswer(t, status, body, http.StatusForbidden, "InvalidClientTokenId",
		"The security token included in the request is invalid")
}

// TestSignatureIsLowerCaseHex: the signature is compared as sent, so a signature right but for
// its hex digits in upper case does not match (403 SignatureDoesNotMatch), as STS answers it.
func TestSignatureIsLowerCaseHex(t *testing.T) {
	f := newFixture(t)
	upper := func(r *http.Request) {
		auth := r.Header.Get("Authorization")
		i := strings.LastIndex(auth, "Signature=") + len("Signature=")
		r.Header.Set("Authorization", auth[:i]+strings.ToUpper(auth[i:]))
	}
	status, body := f.send(t, signed{params: assumeParams(externalID), afterSign: upper})
	expectAnswer(t, status, body, http.StatusForbidden, "SignatureDoesNotMatch", "")
	status, body = f.send(t, signed{params: assumeParams(externalID)})
	expectAnswer(t, status, body, http.StatusOK, "", "")
}
