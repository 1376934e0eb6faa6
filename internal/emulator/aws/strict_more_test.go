package awsemu

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExternalIDComparedExactly pins that AssumeRole's ExternalId must equal the trust
// policy's exactly: one differing only in case is refused 403 AccessDenied.
// Guards against: case-insensitive ExternalId comparison, assumerole.go:assumeRole
func TestExternalIDComparedExactly(t *testing.T) {
	f := newFixture(t)
	status, body := f.send(t, signed{params: assumeParams(strings.ToUpper(externalID))})
	if status != http.StatusForbidden || decodeError(t, body).Error.Code != "AccessDenied" {
		t.Fatalf("got %d %s, want 403 AccessDenied", status, body)
	}
}

// TestWebIdentityTokenMaxLength pins that a WebIdentityToken longer than 20000
// characters is refused 400 ValidationError before any verification, without echoing the
// token, while one of exactly 20000 reaches verification (InvalidIdentityToken).
// Guards against: dropped maximum length of the secret parameter, params.go:validation.secret
func TestWebIdentityTokenMaxLength(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		n    int
		code string
	}{{20000, "InvalidIdentityToken"}, {20001, "ValidationError"}} {
		tok := strings.Repeat("x", tc.n)
		status, body := f.post(t, webIdentity(tok))
		e := decodeError(t, body)
		if status != http.StatusBadRequest || e.Error.Code != tc.code {
			t.Errorf("token of %d: got %d %s, want 400 %s", tc.n, status, e.Error.Code, tc.code)
		}
		if strings.Contains(string(body), tok[:64]) {
			t.Errorf("token of %d echoed in the error", tc.n)
		}
	}
}

// TestTagValueLengthInUTF16Units pins that a session tag value's 256-character limit
// counts UTF-16 code units: 128 letters beyond U+FFFF (256 units) are taken, 129 (258 units)
// refused 400 ValidationError.
// Guards against: length counting each rune once, params.go:length
func TestTagValueLengthInUTF16Units(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		n      int
		status int
	}{{128, http.StatusOK}, {129, http.StatusBadRequest}} {
		p := withTags(assumeParams(externalID), "stack", strings.Repeat("\U00010400", tc.n))
		status, body := f.send(t, signed{params: p})
		if status != tc.status {
			t.Errorf("%d astral letters: got %d %s, want %d", tc.n, status, body, tc.status)
		}
		if tc.status != http.StatusOK && decodeError(t, body).Error.Code != "ValidationError" {
			t.Errorf("%d astral letters: got %s, want ValidationError", tc.n, body)
		}
	}
}

// sendSignedHeaders posts AssumeRole's parameters signed by the test access key over the
// headers listed, in the order given, and answers the status and the body.
func sendSignedHeaders(t *testing.T, f *fixture, headers []string) (int, []byte) {
	t.Helper()
	body := assumeParams(externalID).Encode()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	now := time.Now().UTC()
	amzDate := now.Format(amzDateFormat)
	req.Header.Set("X-Amz-Date", amzDate)
	auth := &sigV4Auth{accessKey: accessKey, date: amzDate[:8], region: DefaultRegion, service: sigV4Service}
	scope := strings.Join([]string{auth.date, auth.region, auth.service, sigV4Terminator}, "/")
	canonical := canonicalRequest(req, []byte(body), headers)
	toSign := strings.Join([]string{sigV4Algorithm, amzDate, scope, hexSHA256([]byte(canonical))}, "\n")
	sig := hex.EncodeToString(hmacSHA256(auth.signingKey(secretKey), []byte(toSign)))
	req.Header.Set("Authorization", sigV4Algorithm+" Credential="+accessKey+"/"+scope+
		", SignedHeaders="+strings.Join(headers, ";")+", Signature="+sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

// TestSignedHeadersMustBeSorted pins that a SigV4 Authorization whose SignedHeaders are
// not in sorted order is refused 400 IncompleteSignature even when the signature was computed
// over that order, while the same headers sorted are taken.
// Guards against: dropped sort check on SignedHeaders, sigv4.go:parseAuthorization
func TestSignedHeadersMustBeSorted(t *testing.T) {
	f := newFixture(t)
	if status, body := sendSignedHeaders(t, f, []string{"host", "x-amz-date"}); status != http.StatusOK {
		t.Fatalf("sorted: got %d %s, want 200", status, body)
	}
	status, body := sendSignedHeaders(t, f, []string{"x-amz-date", "host"})
	if status != http.StatusBadRequest || decodeError(t, body).Error.Code != "IncompleteSignature" {
		t.Fatalf("unsorted: got %d %s, want 400 IncompleteSignature", status, body)
	}
}
