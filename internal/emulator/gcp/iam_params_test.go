package gcpemu

import (
	"net/http"
	"strings"
	"testing"
)

// TestLifetimeNeedsSecondsUnit pins that lifetime is a google.protobuf.Duration in JSON
// form: a bare number of seconds such as "600" lacks the "s" unit and is refused 400
// INVALID_ARGUMENT, not read as seconds.
// Guards against: missing "s" supplied before parsing in iam.go:parseLifetime
func TestLifetimeNeedsSecondsUnit(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	for _, lifetime := range []string{"600", "3600", "1"} {
		status, body := f.postIAM(t, readerSA, read, map[string]any{"scope": []string{cloudScope}, "lifetime": lifetime})
		if rs, _ := rpcErr(body); status != http.StatusBadRequest || rs != "INVALID_ARGUMENT" {
			t.Errorf("lifetime %q: status %d %v, want 400 INVALID_ARGUMENT", lifetime, status, body)
		}
	}
}

// TestIAMResourceName pins the shape of generateAccessToken's path: an empty account or
// one holding a "/" is a malformed resource name (400 INVALID_ARGUMENT), and a path outside
// /v1/projects/ is not routed to the method at all (404 NOT_FOUND).
// Guards against: empty account not refused in iam.go:serveIAM
// Guards against: account holding "/" not refused in iam.go:serveIAM
// Guards against: any path ending in :generateAccessToken routed to IAM in emulator.go:ServeHTTP
func TestIAMResourceName(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	for _, tc := range []struct {
		path   string
		status int
		rpc    string
	}{
		{"/v1/projects/-/serviceAccounts/:generateAccessToken", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"/v1/projects/-/serviceAccounts/x/" + readerSA + ":generateAccessToken", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"/v1beta/projects/-/serviceAccounts/" + readerSA + ":generateAccessToken", http.StatusNotFound, "NOT_FOUND"},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+tc.path, strings.NewReader(`{"scope":["`+cloudScope+`"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+read)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, body := decode(t, resp)
		if rs, _ := rpcErr(body); status != tc.status || rs != tc.rpc {
			t.Errorf("%s: status %d %v, want %d %s", tc.path, status, body, tc.status, tc.rpc)
		}
	}
}

// TestAccessTokenNamesConfiguredAccount pins that an account named in the path in another
// letter case is the configured account: the access token minted records the configured
// email, as AccessTokenInfo reports it.
// Guards against: token sealed with the path's spelling of the email in iam.go:serveIAM
func TestAccessTokenNamesConfiguredAccount(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	status, body := f.postIAM(t, strings.ToUpper(readerSA), read, map[string]any{"scope": []string{cloudScope}})
	if status != http.StatusOK {
		t.Fatalf("status %d %v", status, body)
	}
	tok, _ := body["accessToken"].(string)
	info, live := f.emu.AccessTokenInfo(tok)
	if !live || info.ServiceAccount != readerSA {
		t.Fatalf("AccessTokenInfo = %+v live=%v, want account %s", info, live, readerSA)
	}
}
