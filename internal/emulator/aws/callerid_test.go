package awsemu

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// stsClient is the real SDK client pointed at url, signing with creds (anonymous when nil),
// without retries so every error comes back as answered.
func stsClient(url string, creds awssdk.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:           DefaultRegion,
		BaseEndpoint:     awssdk.String(url),
		Credentials:      creds,
		RetryMaxAttempts: 1,
	})
}

// clock is a settable clock for the emulator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestGetCallerIdentityAnswersForIssuedSessions: the SDK gets credentials from
// AssumeRoleWithWebIdentity and from AssumeRole, then asks GetCallerIdentity with each; the
// emulator names the assumed-role session they belong to.
func TestGetCallerIdentityAnswersForIssuedSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	web, err := stsClient(f.srv.URL, nil).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: awssdk.String(readRole), RoleSessionName: awssdk.String("run-01HZX3"),
		WebIdentityToken: awssdk.String(f.token(t, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	assumed, err := stsClient(f.srv.URL, staticCreds(accessKey, secretKey, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: awssdk.String(assumeTarget), RoleSessionName: awssdk.String("run-01HZX4"), ExternalId: awssdk.String(externalID),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                 string
		creds                awssdk.CredentialsProvider
		arn, userID, session string
		role                 string
	}{
		{"web identity", staticCreds(*web.Credentials.AccessKeyId, *web.Credentials.SecretAccessKey, *web.Credentials.SessionToken),
			"arn:aws:sts::" + account + ":assumed-role/broker-read/run-01HZX3", roleID(readRole) + ":run-01HZX3", "run-01HZX3", readRole},
		{"assume role", staticCreds(*assumed.Credentials.AccessKeyId, *assumed.Credentials.SecretAccessKey, *assumed.Credentials.SessionToken),
			"arn:aws:sts::" + account + ":assumed-role/broker-assume/run-01HZX4", roleID(assumeTarget) + ":run-01HZX4", "run-01HZX4", assumeTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := stsClient(f.srv.URL, tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if awssdk.ToString(out.Arn) != tc.arn || awssdk.ToString(out.UserId) != tc.userID || awssdk.ToString(out.Account) != account {
				t.Errorf("identity = %s %s %s, want %s %s %s", awssdk.ToString(out.Arn), awssdk.ToString(out.UserId),
					awssdk.ToString(out.Account), tc.arn, tc.userID, account)
			}
			c := lastCall(t, f.emu)
			if c.Action != "GetCallerIdentity" || c.Outcome != "ok" || c.RoleARN != tc.role || c.SessionName != tc.session {
				t.Errorf("call = %+v", c)
			}
		})
	}
}

// TestGetCallerIdentityRefusesWhatSTSRefuses: credentials the emulator did not issue, a session
// token that is not theirs, a wrong secret and an expired session each get STS's own error.
func TestGetCallerIdentityRefusesWhatSTSRefuses(t *testing.T) {
	clk := &clock{now: time.Now()}
	emu := New(Config{
		Roles:      []Role{{ARN: assumeTarget, Trust: Trust{Principals: []string{accessKey}}}},
		AccessKeys: map[string]string{accessKey: secretKey},
		Now:        clk.Now,
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	out, err := stsClient(srv.URL, staticCreds(accessKey, secretKey, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: awssdk.String(assumeTarget), RoleSessionName: awssdk.String("run-1"), DurationSeconds: awssdk.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	akid, secret, token := *out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken
	_, otherSecret, otherToken := func() (string, string, string) {
		o, err := stsClient(srv.URL, staticCreds(accessKey, secretKey, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: awssdk.String(assumeTarget), RoleSessionName: awssdk.String("run-2"),
		})
		if err != nil {
			t.Fatal(err)
		}
		return *o.Credentials.AccessKeyId, *o.Credentials.SecretAccessKey, *o.Credentials.SessionToken
	}()

	for _, tc := range []struct {
		name   string
		creds  awssdk.CredentialsProvider
		status int
		code   string
	}{
		{"never issued", staticCreds("ASIAUNKNOWN000000001", secret, token), 403, "InvalidClientTokenId"},
		{"long-term key, not a session", staticCreds(accessKey, secretKey, ""), 403, "InvalidClientTokenId"},
		{"no session token", staticCreds(akid, secret, ""), 403, "InvalidClientTokenId"},
		{"another session's token", staticCreds(akid, secret, otherToken), 403, "InvalidClientTokenId"},
		{"wrong secret", staticCreds(akid, otherSecret, token), 403, "SignatureDoesNotMatch"},
		{"anonymous", nil, 403, "MissingAuthenticationToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stsClient(srv.URL, tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			assertAPIError(t, err, tc.status, tc.code)
		})
	}

	if _, err := stsClient(srv.URL, staticCreds(akid, secret, token)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clk.Add(901 * time.Second)
	_, err = stsClient(srv.URL, staticCreds(akid, secret, token)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	assertAPIError(t, err, 403, "ExpiredToken")
	// A day on, issuing another session forgets the long-expired one (the SDK cannot sign at
	// the emulator's shifted time, so the session is issued directly).
	clk.Add(keepExpired + time.Hour)
	emu.issue(emu.roles[assumeTarget], "run-3", 900)
	_, err = stsClient(srv.URL, staticCreds(akid, secret, token)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	assertAPIError(t, err, 403, "InvalidClientTokenId")
}

// TestGetCallerIdentityQueryForms: the Query API's GET form works when signed, and a request
// changed after signing is refused.
func TestGetCallerIdentityQueryForms(t *testing.T) {
	f := newFixture(t)
	status, body := f.post(t, webIdentity(f.token(t, nil)))
	if status != http.StatusOK {
		t.Fatalf("web identity: %d %s", status, body)
	}
	var doc webIdentityDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Result.Credentials
	params := url.Values{"Action": {"GetCallerIdentity"}, "Version": {APIVersion}}
	status, body = f.send(t, signed{method: http.MethodGet, params: params, akid: c.AccessKeyID, secret: c.SecretAccessKey,
		token: c.SessionToken})
	if status != http.StatusOK || !strings.Contains(string(body), "<Arn>arn:aws:sts::"+account+":assumed-role/broker-read/broker-01HZX3</Arn>") {
		t.Fatalf("GET: %d %s", status, body)
	}
	status, body = f.send(t, signed{params: url.Values{"Action": {"GetCallerIdentity"}, "Version": {APIVersion}},
		akid: c.AccessKeyID, secret: c.SecretAccessKey, token: c.SessionToken,
		afterSign: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().Add(time.Second).UTC().Format(amzDateFormat))
		}})
	if e := decodeError(t, body); status != http.StatusForbidden || e.Error.Code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered: %d %s", status, body)
	}
}

// staticCreds are fixed credentials for the SDK.
func staticCreds(akid, secret, token string) awssdk.CredentialsProvider {
	return awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
		return awssdk.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token}, nil
	})
}

func assertAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	var resp interface{ HTTPStatusCode() int }
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != status {
		t.Errorf("status of %v, want %d", err, status)
	}
}
