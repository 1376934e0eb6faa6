package gcpemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

func TestGenerateAccessToken(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	write := f.federatedToken(t, "write")
	foreign := newFixture(t).federatedToken(t, "read") // sealed by another emulator
	body := func(lifetime string) map[string]any {
		return map[string]any{"scope": []string{cloudScope}, "lifetime": lifetime}
	}
	tests := []struct {
		name     string
		email    string
		bearer   string
		body     any
		status   int
		message  string // substring of error.message; empty on success
		lifetime time.Duration
	}{
		{name: "reader via principalSet attribute", email: readerSA, bearer: read, body: body("900s"), status: 200, lifetime: 15 * time.Minute},
		{name: "writer via principal subject", email: writerSA, bearer: write, body: body("3600s"), status: 200, lifetime: time.Hour},
		{name: "default lifetime", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}}, status: 200, lifetime: time.Hour},
		{name: "read identity on writer account", email: writerSA, bearer: read, body: body("600s"), status: 403, message: msgPermissionDenied},
		{name: "account without binding", email: nobodySA, bearer: write, body: body("600s"), status: 403, message: msgPermissionDenied},
		{name: "unknown account", email: "ghost@demo.iam.gserviceaccount.com", bearer: read, body: body("600s"), status: 404, message: "Gaia id not found"},
		{name: "lifetime too long", email: readerSA, bearer: read, body: body("3601s"), status: 400, message: msgInvalidArgument},
		{name: "lifetime not a duration", email: readerSA, bearer: read, body: body("1h"), status: 400, message: msgInvalidArgument},
		// google.protobuf.Duration's JSON form, as Google's parser reads it.
		{name: "lifetime with a fraction", email: readerSA, bearer: read, body: body("900.5s"), status: 200, lifetime: 15*time.Minute + 500*time.Millisecond},
		{name: "lifetime with an exponent", email: readerSA, bearer: read, body: body("1e3s"), status: 400, message: msgInvalidArgument},
		{name: "lifetime in hex", email: readerSA, bearer: read, body: body("0x1p10s"), status: 400, message: msgInvalidArgument},
		{name: "lifetime with ten fractional digits", email: readerSA, bearer: read, body: body("600.0000000001s"), status: 400, message: msgInvalidArgument},
		{name: "no scope", email: readerSA, bearer: read, body: map[string]any{"lifetime": "60s"}, status: 400, message: msgInvalidArgument},
		{name: "unknown field", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}, "ttl": 5}, status: 400, message: `Unknown name "ttl"`},
		// A field is named exactly: in another case it is an unknown field, not the field.
		{name: "scope in another case", email: readerSA, bearer: read, body: map[string]any{"Scope": []string{cloudScope}}, status: 400, message: `Unknown name "Scope"`},
		{name: "lifetime in another case", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}, "LIFETIME": "60s"}, status: 400, message: `Unknown name "LIFETIME"`},
		{name: "scope of another type", email: readerSA, bearer: read, body: map[string]any{"scope": cloudScope}, status: 400, message: "not a GenerateAccessTokenRequest"},
		{name: "not an object", email: readerSA, bearer: read, body: []string{cloudScope}, status: 400, message: "not a GenerateAccessTokenRequest"},
		// A list's element cannot be null; the whole field null is the field absent.
		{name: "a null scope", email: readerSA, bearer: read, body: map[string]any{"scope": []any{cloudScope, nil}}, status: 400, message: `Invalid value at 'scope[1]'`},
		{name: "a null delegate", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}, "delegates": []any{nil}}, status: 400, message: `Invalid value at 'delegates[0]'`},
		{name: "delegates null", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}, "delegates": nil}, status: 200, lifetime: time.Hour},
		{name: "delegates", email: readerSA, bearer: read, body: map[string]any{"scope": []string{cloudScope}, "delegates": []string{"projects/-/serviceAccounts/" + writerSA}}, status: 400, message: msgInvalidArgument},
		{name: "no credential", email: readerSA, body: body("60s"), status: 401, message: "missing required authentication credential"},
		{name: "unknown federated token", email: readerSA, bearer: "gcpemu.sts.bogus", body: body("60s"), status: 401, message: "invalid authentication credentials"},
		{name: "federated token of another emulator", email: readerSA, bearer: foreign, body: body("60s"), status: 401, message: "invalid authentication credentials"},
		{name: "tampered federated token", email: readerSA, bearer: tampered(read), body: body("60s"), status: 401, message: "invalid authentication credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := f.postIAM(t, tt.email, tt.bearer, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, out)
			}
			call := lastCall(t, f.emu)
			if call.Endpoint != EndpointIAM || call.Status != tt.status {
				t.Errorf("call %+v", call)
			}
			if tt.message != "" {
				rs, msg := rpcErr(out)
				if rs != rpcStatus(tt.status) || !strings.Contains(msg, tt.message) {
					t.Errorf("error %s %q, want %s containing %q", rs, msg, rpcStatus(tt.status), tt.message)
				}
				if call.Outcome != rs {
					t.Errorf("outcome %q", call.Outcome)
				}
				return
			}
			tok, _ := out["accessToken"].(string)
			exp, err := time.Parse(time.RFC3339, out["expireTime"].(string))
			if !strings.HasPrefix(tok, "ya29.") || err != nil {
				t.Fatalf("body %v", out)
			}
			if d := time.Until(exp) - tt.lifetime; d > 5*time.Second || d < -5*time.Second {
				t.Errorf("expireTime %s, want now+%s", exp, tt.lifetime)
			}
			info, ok := f.emu.AccessTokenInfo(tok)
			if !ok || info.ServiceAccount != tt.email || !info.ExpiresAt.Equal(exp) {
				t.Errorf("AccessTokenInfo = %+v, %v", info, ok)
			}
			if call.Outcome != OutcomeOK || call.ServiceAccount != tt.email || call.Lifetime != tt.lifetime ||
				call.Provider != testProvider || call.Audience != testAudience || call.Subject == "" {
				t.Errorf("call %+v", call)
			}
		})
	}
	t.Run("access token is not a federated token", func(t *testing.T) {
		_, out := f.postIAM(t, readerSA, read, body("60s"))
		status, _ := f.postIAM(t, readerSA, out["accessToken"].(string), body("60s"))
		if status != 401 {
			t.Errorf("status %d", status)
		}
	})
	t.Run("403 carries ErrorInfo", func(t *testing.T) {
		_, out := f.postIAM(t, nobodySA, read, body("60s"))
		details := out["error"].(map[string]any)["details"].([]any)
		if details[0].(map[string]any)["reason"] != "IAM_PERMISSION_DENIED" {
			t.Errorf("details %v", details)
		}
	})
}

func TestExpiredFederatedToken(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	f.clock.advance(federatedLifetime + time.Second)
	status, out := f.postIAM(t, readerSA, read, map[string]any{"scope": []string{cloudScope}})
	if rs, _ := rpcErr(out); status != 401 || rs != "UNAUTHENTICATED" {
		t.Fatalf("%d %v", status, out)
	}
}

func TestProjectMustBeWildcard(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/projects/demo/serviceAccounts/"+readerSA+":generateAccessToken",
		strings.NewReader(`{"scope":["`+cloudScope+`"]}`))
	req.Header.Set("Authorization", "Bearer "+read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if status, out := decode(t, resp); status != 400 {
		t.Fatalf("%d %v", status, out)
	}
}

func TestFailNext(t *testing.T) {
	f := newFixture(t)
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		f.emu.FailNext(2, code)
		form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
		for i := range 2 {
			status, out := f.postSTS(t, form)
			if rs, msg := rpcErr(out); status != code || rs != rpcStatus(code) || msg == "" {
				t.Fatalf("attempt %d: %d %v", i, status, out)
			}
		}
		if status, out := f.postSTS(t, form); status != 200 {
			t.Fatalf("after faults: %d %v", status, out)
		}
		calls := f.emu.Calls()
		if got := calls[len(calls)-3]; got.Outcome != rpcStatus(code) || got.Status != code {
			t.Errorf("fault call %+v", got)
		}
	}
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v1/token", 405},
		{http.MethodPost, "/v2/token", 404},
		{http.MethodPost, "/v1/projects/-/serviceAccounts/" + readerSA + ":signJwt", 404},
	} {
		req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if status, out := decode(t, resp); status != tt.status {
			t.Errorf("%s %s: %d %v", tt.method, tt.path, status, out)
		}
	}
}

// tampered is token with one character ten from its end changed to another, so that it always
// differs in bits the token's signature covers (replacing its last characters with fixed ones
// left it unchanged when it already ended so).
func tampered(token string) string {
	i := len(token) - 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
