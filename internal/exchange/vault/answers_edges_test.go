package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	vaultapi "github.com/hashicorp/vault/api"
)

// opaqueSecret is a broker token that is not JWT-shaped, so only scrubbing by value removes it.
const opaqueSecret = "opaque-broker-token-value"

// TestForeignAnswerEdges: a 300 without Vault's error document is a foreign answer with its
// own status; a 2xx whose body ends mid-JSON is named as not Vault's JSON; the broker token is
// scrubbed from a foreign answer's message even when not JWT-shaped.
// Guards against: vault.go:foreignAnswer counts 300 as success
// Guards against: vault.go:foreignAnswer ignores io.ErrUnexpectedEOF
// Guards against: vault.go:foreignAnswer does not scrub the jwt
func TestForeignAnswerEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		login  loginOutcome
		want   string
		status int
	}{
		{"300 empty", loginOutcome{status: 300}, "answered 300, not with Vault's JSON", 300},
		{"200 truncated", loginOutcome{status: 200, err: fmt.Errorf("decode: %w", io.ErrUnexpectedEOF)}, "answered 200 with a body that is not Vault's JSON", 200},
		{"raw error echoing the token", loginOutcome{status: 401, err: &vaultapi.ResponseError{StatusCode: 401, RawError: true, Errors: []string{"bad " + opaqueSecret}}}, "answered 401, not with Vault's JSON: bad [redacted]", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := foreignAnswer("http://vault.example", tc.login, opaqueSecret)
			if up == nil || up.Status != tc.status || up.Message != "Vault at http://vault.example "+tc.want {
				t.Errorf("foreignAnswer = %+v, want status %d and %q", up, tc.status, tc.want)
			}
		})
	}
}

// TestUpstreamMessages: a Vault refusal without messages is named by its status text; a body
// over the cap is named as a login answer too large; the broker token is scrubbed from a failed
// request's message even when not JWT-shaped.
// Guards against: vault.go:upstream without the status text fallback
// Guards against: vault.go:upstream without the too-large case
// Guards against: vault.go:upstream does not scrub the jwt from a failed request
func TestUpstreamMessages(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"empty refusal", &vaultapi.ResponseError{StatusCode: 503}, "Service Unavailable"},
		{"too large", fmt.Errorf("Post: %w", exchange.ErrResponseTooLarge), "login answer too large"},
		{"failed request", fmt.Errorf("dial with %s: connection refused", opaqueSecret), "login request failed: dial with [redacted]: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if up := e.upstream(tc.err, opaqueSecret, time.Second); up.Message != tc.want {
				t.Errorf("upstream message %q, want %q", up.Message, tc.want)
			}
		})
	}
}

// TestCredentialsDetail: ExpiresAt is whole seconds, and a login without policies reports an
// empty list (JSON []), never null.
// Guards against: result.go:expiry not truncated to the second
// Guards against: result.go:nil policies passed on
func TestCredentialsDetail(t *testing.T) {
	start := time.Now().Add(-time.Millisecond).Truncate(time.Second).Add(123 * time.Millisecond)
	creds, err := credentials(&config.Vault{Address: "http://vault.example"}, 0,
		&vaultapi.Secret{Auth: &vaultapi.SecretAuth{ClientToken: clientToken, LeaseDuration: 3600}}, start)
	if err != nil {
		t.Fatal(err)
	}
	if creds.ExpiresAt.Nanosecond() != 0 {
		t.Errorf("ExpiresAt %v is not whole seconds", creds.ExpiresAt)
	}
	data, _ := json.Marshal(creds.Detail)
	if !strings.Contains(string(data), `"policies":[]`) {
		t.Errorf("Detail %s, want policies []", data)
	}
}
