package gcpemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	testPool     = "projects/123456789/locations/global/workloadIdentityPools/broker"
	testProvider = testPool + "/providers/broker-oidc"
	testAudience = "//iam.googleapis.com/" + testProvider
	cloudScope   = "https://www.googleapis.com/auth/cloud-platform"

	readerSA = "reader@demo.iam.gserviceaccount.com"
	writerSA = "writer@demo.iam.gserviceaccount.com"
	nobodySA = "nobody@demo.iam.gserviceaccount.com"

	readSub  = "space:root:stack:vpc:run_type:TRACKED:scope:read"
	writeSub = "space:root:stack:vpc:run_type:TRACKED:scope:write"
)

// clock is a test clock that can be moved forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

type fixture struct {
	emu   *Emulator
	iss   *oidctest.Issuer
	srv   *httptest.Server
	clock *clock
}

// newFixture runs an issuer and an emulator trusting it: a provider mapping sub, scope and
// callerId, refusing the stack "blocked"; readerSA bound to attribute.scope/read, writerSA to
// the write subject, nobodySA to no one.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	c := &clock{}
	emu := New(Config{
		Providers: []Provider{{
			Name:   testProvider,
			Issuer: iss.URL,
			AttributeMapping: map[string]string{
				"google.subject": "assertion.sub", "attribute.scope": "assertion.scope", "attribute.stack": "assertion.callerId",
			},
			AttributeCondition: func(_ oidctrust.Claims, attrs map[string]string) bool { return attrs["attribute.stack"] != "blocked" },
		}},
		ServiceAccounts: []ServiceAccount{
			{Email: readerSA, Members: []string{"principalSet://iam.googleapis.com/" + testPool + "/attribute.scope/read"}},
			{Email: writerSA, Members: []string{"principal://iam.googleapis.com/" + testPool + "/subject/" + writeSub}},
			{Email: nobodySA},
		},
		Now: c.now,
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{emu: emu, iss: iss, srv: srv, clock: c}
}

// claims returns a broker-like claim set for scope ("read" or "write").
func claims(scope string) map[string]any {
	sub := readSub
	if scope == "write" {
		sub = writeSub
	}
	return map[string]any{"sub": sub, "aud": testAudience, "scope": scope, "callerId": "vpc"}
}

// stsForm is a correct token exchange request for token.
func stsForm(token string) url.Values {
	return url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {tokenTypeAccess},
		"subject_token_type":   {tokenTypeJWT},
		"subject_token":        {token},
		"audience":             {testAudience},
		"scope":                {cloudScope},
	}
}

func (f *fixture) postSTS(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(f.srv.URL+"/v1/token", form)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// federatedToken runs a good exchange for scope and returns the STS token.
func (f *fixture) federatedToken(t *testing.T, scope string) string {
	t.Helper()
	status, body := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims(scope)})))
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	return body["access_token"].(string)
}

func (f *fixture) postIAM(t *testing.T, email, bearer string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/projects/-/serviceAccounts/"+email+":generateAccessToken", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("status %d, body is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, body
}

// rpcErr returns error.status and error.message of a google.rpc error body.
func rpcErr(body map[string]any) (status, message string) {
	e, _ := body["error"].(map[string]any)
	status, _ = e["status"].(string)
	message, _ = e["message"].(string)
	return status, message
}

func lastCall(t *testing.T, e *Emulator) Call {
	t.Helper()
	calls := e.Calls()
	if len(calls) == 0 {
		t.Fatal("no calls recorded")
	}
	return calls[len(calls)-1]
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
