package awsemu

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	f := newFixture(t)
	tags := map[string]any{"principal_tags": map[string]any{"stack": []any{"vpc"}, "scope": []any{"read"}},
		"transitive_tag_keys": []any{"stack"}}

	tests := []struct {
		name     string
		params   func(t *testing.T) url.Values
		status   int
		code     string
		message  string // substring of the error message
		wantCall func(t *testing.T, c Call)
	}{
		{
			name:   "good RS256 token",
			params: func(t *testing.T) url.Values { return webIdentity(f.token(t, nil)) },
			status: http.StatusOK,
			wantCall: func(t *testing.T, c Call) {
				if c.Subject != readSubject || c.Audience != "sts.amazonaws.com" || c.Issuer != f.iss.URL ||
					c.RoleARN != readRole || c.SessionName != "broker-01HZX3" || c.DurationSeconds != 3600 {
					t.Errorf("call = %+v", c)
				}
			},
		},
		{
			name:   "ES256 token",
			params: func(t *testing.T) url.Values { return webIdentity(f.token(t, nil, withAlg("ES256"))) },
			status: http.StatusOK,
		},
		{
			name:    "wrong audience",
			params:  func(t *testing.T) url.Values { return webIdentity(f.token(t, map[string]any{"aud": "api://other"})) },
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "Incorrect token audience",
		},
		{
			name: "issuer not registered",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.token(t, map[string]any{"iss": "https://unknown.example"}))
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "No OpenIDConnect provider found in your account for https://unknown.example",
		},
		{
			name: "issuer of the account that the role does not trust",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.other.Sign(t, oidctest.Token{Claims: map[string]any{"sub": readSubject, "aud": "sts.amazonaws.com"}}))
			},
			status:  http.StatusForbidden,
			code:    "AccessDenied",
			message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
		},
		{
			name:    "key not in the JWKS",
			params:  func(t *testing.T) url.Values { return webIdentity(f.token(t, nil, rogue)) },
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "signature",
		},
		{
			name:    "expired",
			params:  func(t *testing.T) url.Values { return webIdentity(f.token(t, nil, expiresIn(-time.Hour))) },
			status:  http.StatusBadRequest,
			code:    "ExpiredTokenException",
			message: "Token expired: current date/time",
		},
		{
			name:    "HS256 refused",
			params:  func(t *testing.T) url.Values { return webIdentity(hs256Token(t, f.iss.URL)) },
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "algorithm",
		},
		{
			name: "a good token in the JWS JSON serialization",
			params: func(t *testing.T) url.Values {
				_, flattened := oidctest.JSONSerialized(t, f.token(t, nil))
				return webIdentity(flattened)
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "not a valid JWT",
		},
		{
			name:    "not a JWT",
			params:  func(t *testing.T) url.Values { return webIdentity("not.a.jwt-at-all") },
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "not a valid JWT",
		},
		{
			name: "provider discovery fails",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, map[string]any{"iss": f.badIDP}))
				p.Set("RoleArn", badIDPRole)
				return p
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "Couldn't retrieve verification key from your identity provider",
		},
		{
			name: "exp not an integer",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.token(t, map[string]any{"exp": float64(time.Now().Add(10*time.Minute).Unix()) + 0.5}))
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "must be integers",
		},
		{
			name: "iat not an integer",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.token(t, map[string]any{"iat": float64(time.Now().Unix()) + 0.25}))
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "must be integers",
		},
		{
			name: "nbf not an integer",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.token(t, map[string]any{"nbf": float64(time.Now().Add(-time.Minute).Unix()) + 0.75}))
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "must be integers",
		},
		{
			name: "sub does not match the trust condition",
			params: func(t *testing.T) url.Values {
				return webIdentity(f.token(t, map[string]any{"sub": "space:root:stack:vpc:run_type:TRACKED:scope:write"}))
			},
			status:  http.StatusForbidden,
			code:    "AccessDenied",
			message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
		},
		{
			name: "wildcard sub matches",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, map[string]any{"sub": "space:root:stack:db-prod:run_type:TRACKED:scope:read", "aud": "custom-aud"}))
				p.Set("RoleArn", wildRole)
				p.Set("DurationSeconds", "7200")
				return p
			},
			status: http.StatusOK,
			wantCall: func(t *testing.T, c Call) {
				if c.Audience != "custom-aud" || c.DurationSeconds != 7200 {
					t.Errorf("call = %+v", c)
				}
			},
		},
		{
			name: "wildcard sub does not match",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, map[string]any{"sub": "space:root:stack:db-prod:run_type:TRACKED:scope:write"}))
				p.Set("RoleArn", wildRole)
				return p
			},
			status: http.StatusForbidden,
			code:   "AccessDenied",
		},
		{
			name: "duration above the role maximum",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("DurationSeconds", "7200")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "exceeds the MaxSessionDuration set for this role",
		},
		{
			name: "duration below 900",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("DurationSeconds", "600")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "Value '600' at 'durationSeconds' failed to satisfy constraint",
		},
		{
			name: "duration one second below STS's least",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("DurationSeconds", "899")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "Value '899' at 'durationSeconds' failed to satisfy constraint",
		},
		{
			name: "duration one second past STS's most",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("DurationSeconds", "43201")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "Value '43201' at 'durationSeconds' failed to satisfy constraint",
		},
		{
			name: "session name with spaces",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("RoleSessionName", "run 1")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern",
		},
		{
			name: "missing token and session name",
			params: func(t *testing.T) url.Values {
				p := webIdentity("")
				p.Del("WebIdentityToken")
				p.Del("RoleSessionName")
				return p
			},
			status:  http.StatusBadRequest,
			code:    "ValidationError",
			message: "2 validation errors detected: Value null at 'roleSessionName'",
		},
		{
			name: "unknown role",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, nil))
				p.Set("RoleArn", "arn:aws:iam::123456789012:role/nope")
				return p
			},
			status:  http.StatusForbidden,
			code:    "AccessDenied",
			message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
		},
		{
			name:   "session tags recorded",
			params: func(t *testing.T) url.Values { return webIdentity(f.token(t, map[string]any{TagsClaim: tags})) },
			status: http.StatusOK,
			wantCall: func(t *testing.T, c Call) {
				if len(c.SessionTags) != 2 || c.SessionTags["stack"] != "vpc" || c.SessionTags["scope"] != "read" ||
					len(c.TransitiveTagKeys) != 1 || c.TransitiveTagKeys[0] != "stack" {
					t.Errorf("tags = %v, transitive = %v", c.SessionTags, c.TransitiveTagKeys)
				}
			},
		},
		{
			name: "session tags on a role whose trust policy does not allow sts:TagSession",
			params: func(t *testing.T) url.Values {
				p := webIdentity(f.token(t, map[string]any{TagsClaim: tags}))
				p.Set("RoleArn", wildRole)
				return p
			},
			status:  http.StatusForbidden,
			code:    "AccessDenied",
			message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
		},
		{
			name: "malformed session tags",
			params: func(t *testing.T) url.Values {
				bad := map[string]any{"principal_tags": map[string]any{"stack": []any{"vpc", "db"}}}
				return webIdentity(f.token(t, map[string]any{TagsClaim: bad}))
			},
			status:  http.StatusBadRequest,
			code:    "InvalidIdentityToken",
			message: "Invalid session tags",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := tc.params(t)
			token := params.Get("WebIdentityToken")
			status, body := f.post(t, params)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %s", status, tc.status, body)
			}
			if len(token) > 8 && strings.Contains(string(body), token) {
				t.Errorf("answer echoes the token")
			}
			call := lastCall(t, f.emu)
			if tc.status == http.StatusOK {
				checkWebIdentitySuccess(t, body, params, call)
				if call.Outcome != "ok" {
					t.Errorf("outcome = %q", call.Outcome)
				}
			} else {
				e := decodeError(t, body)
				if e.Error.Code != tc.code || e.Error.Type != "Sender" || !strings.Contains(e.Error.Message, tc.message) {
					t.Errorf("error = %+v, want %s containing %q", e.Error, tc.code, tc.message)
				}
				if call.Outcome != tc.code {
					t.Errorf("outcome = %q, want %q", call.Outcome, tc.code)
				}
			}
			if tc.wantCall != nil {
				tc.wantCall(t, call)
			}
		})
	}
}

var (
	accessKeyShape = regexp.MustCompile(`^ASIA[A-Z0-9]{16}$`)
	roleIDShape    = regexp.MustCompile(`^AROA[A-Z0-9]{17}:`)
)

func checkWebIdentitySuccess(t *testing.T, body []byte, params url.Values, call Call) {
	t.Helper()
	var doc webIdentityDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not an AssumeRoleWithWebIdentityResponse: %v\n%s", err, body)
	}
	r := doc.Result
	if !accessKeyShape.MatchString(r.Credentials.AccessKeyID) || len(r.Credentials.SecretAccessKey) != 40 ||
		r.Credentials.SessionToken == "" || doc.RequestID == "" {
		t.Errorf("credentials = %+v, request id %q", r.Credentials, doc.RequestID)
	}
	exp, err := time.Parse(time.RFC3339, r.Credentials.Expiration)
	if want := time.Now().Add(time.Duration(call.DurationSeconds) * time.Second); err != nil || exp.Sub(want).Abs() > 5*time.Second {
		t.Errorf("expiration = %q, want about %s", r.Credentials.Expiration, want)
	}
	roleName := params.Get("RoleArn")[strings.LastIndex(params.Get("RoleArn"), "/")+1:]
	wantArn := "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/" + params.Get("RoleSessionName")
	if r.AssumedRoleUser.Arn != wantArn || !roleIDShape.MatchString(r.AssumedRoleUser.AssumedRoleID) ||
		!strings.HasSuffix(r.AssumedRoleUser.AssumedRoleID, ":"+params.Get("RoleSessionName")) {
		t.Errorf("assumed role user = %+v, want arn %s", r.AssumedRoleUser, wantArn)
	}
	if r.SubjectFromWebIdentityToken != call.Subject || r.Provider != call.Issuer || r.Audience != call.Audience {
		t.Errorf("result = %+v, call = %+v", r, call)
	}
}

func withAlg(alg string) func(*oidctest.Token) { return func(t *oidctest.Token) { t.Alg = alg } }

func rogue(t *oidctest.Token) { t.Rogue = true }

func expiresIn(d time.Duration) func(*oidctest.Token) {
	return func(t *oidctest.Token) { t.ExpiresIn = d }
}
