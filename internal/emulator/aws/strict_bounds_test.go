package awsemu

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// paddedPolicy is a valid session policy padded with trailing whitespace to n characters.
func paddedPolicy(n int) string {
	p := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	return p + strings.Repeat(" ", n-len(p))
}

// expectAnswer checks an answer: its status, and when code is set its error code, with a
// message containing message.
func expectAnswer(t *testing.T, status int, body []byte, wantStatus int, code, message string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %.300s", status, wantStatus, body)
	}
	if code == "" {
		return
	}
	if e := decodeError(t, body); e.Error.Code != code || !strings.Contains(e.Error.Message, message) {
		t.Errorf("error %s %q, want %s containing %q", e.Error.Code, e.Error.Message, code, message)
	}
}

// numberedTags is an https://aws.amazon.com/tags claim of n principal tags t1..tn.
func numberedTags(n int) map[string]any {
	principal := map[string]any{}
	for i := 1; i <= n; i++ {
		principal["t"+strconv.Itoa(i)] = []any{"v"}
	}
	return map[string]any{"principal_tags": principal}
}

// TestWebIdentityBounds: AssumeRoleWithWebIdentity holds STS's model bounds to the unit
// (RoleSessionName at most 64 characters of [\w+=,.@-], Policy at most 2048) and its session
// tag rules (at most 50, keys case-insensitive, transitive keys among the principal tags).
func TestWebIdentityBounds(t *testing.T) {
	f := newFixture(t)
	tags := func(claim map[string]any) url.Values {
		return webIdentity(f.token(t, map[string]any{TagsClaim: claim}))
	}
	set := func(name, value string) url.Values {
		p := webIdentity(f.token(t, nil))
		p.Set(name, value)
		return p
	}
	for _, tc := range []struct {
		name    string
		params  url.Values
		status  int
		code    string
		message string
	}{
		{"session name of 64 characters", set("RoleSessionName", strings.Repeat("s", 64)), http.StatusOK, "", ""},
		{"session name of 65 characters", set("RoleSessionName", strings.Repeat("s", 65)), http.StatusBadRequest, "ValidationError",
			"at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"session name with a slash", set("RoleSessionName", "run/1"), http.StatusBadRequest, "ValidationError",
			"at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"policy of 2048 characters", set("Policy", paddedPolicy(2048)), http.StatusOK, "", ""},
		{"policy of 2049 characters", set("Policy", paddedPolicy(2049)), http.StatusBadRequest, "ValidationError",
			"at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"50 session tags", tags(numberedTags(50)), http.StatusOK, "", ""},
		{"51 session tags", tags(numberedTags(51)), http.StatusBadRequest, "InvalidIdentityToken", "Invalid session tags"},
		{"tag keys equal but for case", tags(map[string]any{"principal_tags": map[string]any{"stack": []any{"a"}, "Stack": []any{"b"}}}),
			http.StatusBadRequest, "InvalidIdentityToken", "Invalid session tags"},
		{"transitive key that is no principal tag", tags(map[string]any{"principal_tags": map[string]any{"stack": []any{"a"}},
			"transitive_tag_keys": []any{"scope"}}), http.StatusBadRequest, "InvalidIdentityToken", "Invalid session tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.post(t, tc.params)
			expectAnswer(t, status, body, tc.status, tc.code, tc.message)
		})
	}
}

// TestAssumeRoleTagBounds: AssumeRole takes at most 50 Tags, whose keys match
// [\p{L}\p{Z}\p{N}_.:/=+\-@]+, else 400 ValidationError.
func TestAssumeRoleTagBounds(t *testing.T) {
	f := newFixture(t)
	many := func(n int) url.Values {
		p := assumeParams(externalID)
		for i := 1; i <= n; i++ {
			p.Set("Tags.member."+strconv.Itoa(i)+".Key", "t"+strconv.Itoa(i))
			p.Set("Tags.member."+strconv.Itoa(i)+".Value", "v")
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		params url.Values
		status int
	}{
		{"50 tags", many(50), http.StatusOK},
		{"51 tags", many(51), http.StatusBadRequest},
		{"tag key with #", withTags(assumeParams(externalID), "team#1", "vpc"), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.send(t, signed{params: tc.params})
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.status != http.StatusOK {
				if e := decodeError(t, body); e.Error.Code != "ValidationError" {
					t.Errorf("error %+v, want ValidationError", e.Error)
				}
			}
		})
	}
}

// TestTokenTimesToTheSecond: on a fixed clock, a token is refused from its exp on
// (ExpiredTokenException "Token expired", not "not yet valid"), and once it was issued more
// than a day ago ("Token too old").
func TestTokenTimesToTheSecond(t *testing.T) {
	iss := oidctest.Start(t)
	now := time.Unix(1_700_000_000, 0)
	emu := New(Config{
		Roles: []Role{{ARN: readRole, Trust: Trust{Issuer: iss.URL, Audiences: []string{"sts.amazonaws.com"}, Subject: readSubject}}},
		Now:   func() time.Time { return now },
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	f := &fixture{iss: iss, emu: emu, srv: srv}
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	for _, tc := range []struct {
		name          string
		iat, exp      int64
		code, message string // code "" means credentials
	}{
		{"exp 1 s ahead", at(-time.Minute), at(time.Second), "", ""},
		{"exp now", at(-time.Minute), at(0), "ExpiredTokenException",
			"Token expired: current date/time 1700000000 must be before the expiration date/time 1700000000"},
		{"issued exactly a day ago", at(-24 * time.Hour), at(time.Hour), "", ""},
		{"issued a day and 1 s ago", at(-24*time.Hour - time.Second), at(time.Hour), "ExpiredTokenException", "Token too old: 86401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.post(t, webIdentity(f.token(t, map[string]any{"iat": tc.iat, "nbf": tc.iat, "exp": tc.exp})))
			want := http.StatusOK
			if tc.code != "" {
				want = http.StatusBadRequest
			}
			expectAnswer(t, status, body, want, tc.code, tc.message)
		})
	}
}

// handSigned posts params form-encoded, signed by hand with the emulator's own canonical
// request over signedHeaders, dated amzDate (X-Amz-Date) under a credential scope of scopeDate.
func handSigned(t *testing.T, f *fixture, params url.Values, scopeDate, amzDate string, signedHeaders []string) (int, []byte) {
	t.Helper()
	body := params.Encode()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Date", amzDate)
	auth := &sigV4Auth{accessKey: accessKey, date: scopeDate, region: DefaultRegion, service: sigV4Service, signedHeaders: signedHeaders}
	scope := strings.Join([]string{scopeDate, DefaultRegion, sigV4Service, sigV4Terminator}, "/")
	canonical := canonicalRequest(req, []byte(body), signedHeaders)
	toSign := strings.Join([]string{sigV4Algorithm, amzDate, scope, hexSHA256([]byte(canonical))}, "\n")
	sig := hex.EncodeToString(hmacSHA256(auth.signingKey(secretKey), []byte(toSign)))
	req.Header.Set("Authorization", sigV4Algorithm+" Credential="+accessKey+"/"+scope+", SignedHeaders="+
		strings.Join(signedHeaders, ";")+", Signature="+sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

// TestSigV4Refusals: STS refuses a request signed more than 15 minutes ago or ahead, one
// whose credential scope names another day than its X-Amz-Date, and one whose X-Amz-Date is not
// among the signed headers.
func TestSigV4Refusals(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	amz := now.Format(amzDateFormat)
	day := now.Format("20060102")
	yesterday := now.Add(-24 * time.Hour).Format("20060102")
	all := []string{"content-type", "host", "x-amz-date"}
	for _, tc := range []struct {
		name    string
		send    func() (int, []byte)
		status  int
		code    string
		message string
	}{
		{"hand-signed, scope of the day", func() (int, []byte) { return handSigned(t, f, assumeParams(externalID), day, amz, all) }, 200, "", ""},
		{"scope of another day", func() (int, []byte) { return handSigned(t, f, assumeParams(externalID), yesterday, amz, all) },
			403, "SignatureDoesNotMatch", "Date in Credential scope does not match"},
		{"X-Amz-Date not signed", func() (int, []byte) {
			return handSigned(t, f, assumeParams(externalID), day, amz, []string{"content-type", "host"})
		}, 400, "IncompleteSignature", "X-Amz-Date"},
		{"signed 15.5 minutes ago", func() (int, []byte) {
			return f.send(t, signed{params: assumeParams(externalID), at: time.Now().Add(-15*time.Minute - 30*time.Second)})
		}, 403, "SignatureDoesNotMatch", "Signature expired"},
		{"signed 20 minutes ahead", func() (int, []byte) {
			return f.send(t, signed{params: assumeParams(externalID), at: time.Now().Add(20 * time.Minute)})
		}, 403, "SignatureDoesNotMatch", "Signature not yet current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.send()
			expectAnswer(t, status, body, tc.status, tc.code, tc.message)
		})
	}
}

// TestQueryBodyNeedsFormType: a POST body is read as the Query API's parameters only when
// its Content-Type is application/x-www-form-urlencoded.
func TestQueryBodyNeedsFormType(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Post(f.srv.URL+"/", "text/plain", strings.NewReader(webIdentity(f.token(t, nil)).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := readResponse(t, resp); status != http.StatusBadRequest {
		t.Fatalf("form body sent as text/plain: status %d, want 400: %s", status, body)
	}
}
