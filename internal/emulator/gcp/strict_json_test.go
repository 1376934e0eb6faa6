package gcpemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// wantUnexpectedToken is Google's message for a body that is more than one JSON value.
const wantUnexpectedToken = "Invalid JSON payload received. Unexpected token."

// strictJSONCases are request bodies built around one good JSON object: Google's front end
// takes the object alone, or followed by whitespace only, and refuses anything more.
var strictJSONCases = []struct {
	name   string
	suffix string
	ok     bool
}{
	{name: "object alone", suffix: "", ok: true},
	{name: "trailing whitespace", suffix: " \n\t\r\n", ok: true},
	{name: "second object", suffix: ` {"lifetime":"99999s"}`},
	{name: "second object without space", suffix: `{}`},
	{name: "trailing text", suffix: "garbage"},
	{name: "trailing number", suffix: " 1"},
	{name: "stray closing brace", suffix: "}"},
	{name: "stray closing bracket", suffix: "]"},
	{name: "trailing comma", suffix: ","},
	{name: "trailing null", suffix: "\nnull"},
}

// TestGenerateAccessTokenStrictJSON: generateAccessToken takes a body that is exactly one JSON
// value, else 400 INVALID_ARGUMENT "Invalid JSON payload received. Unexpected token.".
func TestGenerateAccessTokenStrictJSON(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	object := `{"scope":["` + cloudScope + `"],"lifetime":"600s"}`
	for _, tc := range strictJSONCases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/projects/-/serviceAccounts/"+readerSA+":generateAccessToken",
				strings.NewReader(object+tc.suffix))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+read)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			status, out := decode(t, resp)
			if tc.ok {
				if status != http.StatusOK {
					t.Fatalf("suffix %q: status %d, want 200: %v", tc.suffix, status, out["error"])
				}
				return
			}
			if status != http.StatusBadRequest {
				t.Fatalf("suffix %q: status %d, want 400", tc.suffix, status)
			}
			rs, msg := rpcErr(out)
			if rs != "INVALID_ARGUMENT" || msg != wantUnexpectedToken {
				t.Errorf("error %s %q, want INVALID_ARGUMENT %q", rs, msg, wantUnexpectedToken)
			}
			if call := lastCall(t, f.emu); call.Outcome != "INVALID_ARGUMENT" || call.Status != http.StatusBadRequest {
				t.Errorf("call %+v", call)
			}
		})
	}
}

// TestSTSStrictJSON: the STS token endpoint takes a JSON body that is exactly one JSON value,
// else 400 invalid_request "Invalid JSON payload received. Unexpected token.".
func TestSTSStrictJSON(t *testing.T) {
	f := newFixture(t)
	tok := f.iss.Sign(t, oidctest.Token{Claims: claims("read")})
	fields := map[string]string{}
	for k, v := range stsForm(tok) {
		fields[k] = v[0]
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	object := string(raw)
	for _, tc := range strictJSONCases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(f.srv.URL+"/v1/token", "application/json", strings.NewReader(object+tc.suffix))
			if err != nil {
				t.Fatal(err)
			}
			status, out := decode(t, resp)
			if tc.ok {
				if status != http.StatusOK {
					t.Fatalf("suffix %q: status %d, want 200: %v %v", tc.suffix, status, out["error"], out["error_description"])
				}
				return
			}
			if status != http.StatusBadRequest {
				t.Fatalf("suffix %q: status %d, want 400", tc.suffix, status)
			}
			if out["error"] != "invalid_request" || out["error_description"] != wantUnexpectedToken {
				t.Errorf("error %v %q, want invalid_request %q", out["error"], out["error_description"], wantUnexpectedToken)
			}
			if call := lastCall(t, f.emu); call.Outcome != "invalid_request" || call.Status != http.StatusBadRequest {
				t.Errorf("call %+v", call)
			}
		})
	}
}
