package awsemu

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signed builds a request signed by the SDK's SigV4 signer.
type signed struct {
	method     string
	params     url.Values
	akid       string
	secret     string
	token      string // session token, sent as X-Amz-Security-Token
	at         time.Time
	afterSign  func(*http.Request) // tampering
	unsigned   bool
	serviceFor string
	region     string // of the credential scope; "" means DefaultRegion
}

func (f *fixture) send(t *testing.T, s signed) (int, []byte) {
	t.Helper()
	if s.akid == "" {
		s.akid, s.secret = accessKey, secretKey
	}
	if s.at.IsZero() {
		s.at = time.Now()
	}
	if s.serviceFor == "" {
		s.serviceFor = "sts"
	}
	var (
		req  *http.Request
		body string
		err  error
	)
	if s.method == http.MethodGet {
		req, err = http.NewRequest(http.MethodGet, f.srv.URL+"/?"+s.params.Encode(), nil)
	} else {
		body = s.params.Encode()
		req, err = http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !s.unsigned {
		sum := sha256.Sum256([]byte(body))
		creds := awssdk.Credentials{AccessKeyID: s.akid, SecretAccessKey: s.secret, SessionToken: s.token}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), s.serviceFor, cmp.Or(s.region, DefaultRegion), s.at); err != nil {
			t.Fatal(err)
		}
	}
	if s.afterSign != nil {
		s.afterSign(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

func assumeParams(extID string) url.Values {
	p := url.Values{
		"Action": {"AssumeRole"}, "Version": {APIVersion},
		"RoleArn": {assumeTarget}, "RoleSessionName": {"broker-01HZX3"},
	}
	if extID != "" {
		p.Set("ExternalId", extID)
	}
	return p
}

func TestAssumeRole(t *testing.T) {
	f := newFixture(t)
	denied := "User: " + accessKey + " is not authorized to perform: sts:AssumeRole on resource: " + assumeTarget
	tests := []struct {
		name    string
		req     signed
		status  int
		code    string
		message string
	}{
		{name: "correct external id", req: signed{params: assumeParams(externalID)}, status: http.StatusOK},
		{name: "signed GET query", req: signed{method: http.MethodGet, params: assumeParams(externalID)}, status: http.StatusOK},
		{
			name:   "session tags",
			req:    signed{params: withTags(assumeParams(externalID), "stack", "vpc")},
			status: http.StatusOK,
		},
		{
			name: "session tags on a role whose trust policy does not allow sts:TagSession",
			req: signed{params: func() url.Values {
				p := withTags(assumeParams(externalID), "stack", "vpc")
				p.Set("RoleArn", untagged)
				return p
			}()},
			status: http.StatusForbidden, code: "AccessDenied", message: "is not authorized to perform: sts:TagSession",
		},
		{
			name:   "wrong external id",
			req:    signed{params: assumeParams("broker.example:8443@aws-prod@vpc@write")},
			status: http.StatusForbidden, code: "AccessDenied", message: denied,
		},
		{
			name:   "missing external id",
			req:    signed{params: assumeParams("")},
			status: http.StatusForbidden, code: "AccessDenied", message: denied,
		},
		{
			name:   "principal not trusted",
			req:    signed{params: assumeParams(externalID), akid: "AKIAUNTRUSTED0000001", secret: "another-secret-key-value-0000000000000000"},
			status: http.StatusForbidden, code: "AccessDenied", message: "not authorized to perform: sts:AssumeRole",
		},
		{
			name:   "wrong secret",
			req:    signed{params: assumeParams(externalID), akid: accessKey, secret: "not-the-secret-key-0000000000000000000000"},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: "does not match the signature you provided",
		},
		{
			name: "body changed after signing",
			req: signed{params: assumeParams(externalID), afterSign: func(r *http.Request) {
				body := assumeParams("broker.example:8443@aws-prod@vpc@wrote").Encode()
				r.Body = readCloser(body)
				r.ContentLength = int64(len(body))
			}},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch",
		},
		{
			name:   "unknown access key",
			req:    signed{params: assumeParams(externalID), akid: "AKIANOBODY0000000000", secret: secretKey},
			status: http.StatusForbidden, code: "InvalidClientTokenId", message: "The security token included in the request is invalid",
		},
		{
			name:   "unsigned",
			req:    signed{params: assumeParams(externalID), unsigned: true},
			status: http.StatusForbidden, code: "MissingAuthenticationToken",
		},
		{
			name:   "signature too old",
			req:    signed{params: assumeParams(externalID), at: time.Now().Add(-time.Hour)},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: "Signature expired",
		},
		{
			name:   "scoped to another service",
			req:    signed{params: assumeParams(externalID), serviceFor: "iam"},
			status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: "correct service",
		},
		{
			name: "missing session name",
			req: signed{params: func() url.Values {
				p := assumeParams(externalID)
				p.Del("RoleSessionName")
				return p
			}()},
			status: http.StatusBadRequest, code: "ValidationError", message: "Value null at 'roleSessionName'",
		},
		{
			name: "duration above the role maximum",
			req: signed{params: func() url.Values {
				p := assumeParams(externalID)
				p.Set("DurationSeconds", "3601")
				return p
			}()},
			status: http.StatusBadRequest, code: "ValidationError", message: "MaxSessionDuration",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.send(t, tc.req)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %s", status, tc.status, body)
			}
			call := lastCall(t, f.emu)
			if tc.status != http.StatusOK {
				e := decodeError(t, body)
				if e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.message) {
					t.Errorf("error = %+v, want %s containing %q", e.Error, tc.code, tc.message)
				}
				if call.Outcome != tc.code {
					t.Errorf("outcome = %q", call.Outcome)
				}
				return
			}
			var doc assumeRoleDoc
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("not an AssumeRoleResponse: %v\n%s", err, body)
			}
			wantArn := "arn:aws:sts::" + account + ":assumed-role/broker-assume/broker-01HZX3"
			if !accessKeyShape.MatchString(doc.Result.Credentials.AccessKeyID) || doc.Result.AssumedRoleUser.Arn != wantArn {
				t.Errorf("result = %+v", doc.Result)
			}
			if call.Outcome != "ok" || call.AccessKey != accessKey || call.ExternalID != externalID || call.RoleARN != assumeTarget {
				t.Errorf("call = %+v", call)
			}
			if tags := tc.req.params.Get("Tags.member.1.Key"); tags != "" && call.SessionTags[tags] != tc.req.params.Get("Tags.member.1.Value") {
				t.Errorf("session tags = %v", call.SessionTags)
			}
		})
	}
}

func withTags(p url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		n := "Tags.member." + string(rune('1'+i/2)) + "."
		p.Set(n+"Key", kv[i])
		p.Set(n+"Value", kv[i+1])
	}
	return p
}

type stringReadCloser struct{ *strings.Reader }

func (stringReadCloser) Close() error { return nil }

func readCloser(s string) stringReadCloser { return stringReadCloser{strings.NewReader(s)} }

// TestSignedForAnotherRegion: a request signed for a region other than the endpoint's is
// refused, 403 SignatureDoesNotMatch, as STS refuses it ("Credential should be scoped to a
// valid region"): an assume-role integration whose region does not match its sts_endpoint
// fails here as it would against AWS.
func TestSignedForAnotherRegion(t *testing.T) {
	f := newFixture(t)
	for _, region := range []string{"eu-west-1", "zz-nowhere-9"} {
		status, body := f.send(t, signed{params: assumeParams(externalID), region: region})
		if status != http.StatusForbidden {
			t.Fatalf("signed for %s: status %d, want 403: %s", region, status, body)
		}
		want := "Credential should be scoped to a valid region, not '" + region + "'."
		if e := decodeError(t, body); e.Error.Code != "SignatureDoesNotMatch" || !strings.Contains(e.Error.Message, want) {
			t.Errorf("signed for %s: %s %q, want SignatureDoesNotMatch %q", region, e.Error.Code, e.Error.Message, want)
		}
	}
	if status, body := f.send(t, signed{params: assumeParams(externalID), region: DefaultRegion}); status != http.StatusOK {
		t.Errorf("signed for %s: status %d: %s", DefaultRegion, status, body)
	}
}
