package exchange

import (
	"strings"
	"testing"
)

// TestUpstreamErrorTextWithoutStatus checks that an upstream error for a call that got no
// answer but says why reads "<provider>: <message>", and that its Detail is the message alone,
// without "could not be reached" in front of it.
// Guards against: Error() always uses the space form (colon branch dropped)
// Guards against: Detail() writes "could not be reached" whenever Status is 0
func TestUpstreamErrorTextWithoutStatus(t *testing.T) {
	e := &UpstreamError{Provider: "vault", Message: "dial tcp 127.0.0.1:8200: connection refused"}
	if got, want := e.Error(), "vault: dial tcp 127.0.0.1:8200: connection refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := e.Detail(), "dial tcp 127.0.0.1:8200: connection refused"; got != want {
		t.Errorf("Detail() = %q, want %q", got, want)
	}
}

// TestUpstreamScrubsGivenSecretsFromMessage checks that a secret given to Upstream (one
// that is not JWT-shaped) is removed from the upstream's message, not only from its code.
// Guards against: Upstream scrubs the message without the secrets given
func TestUpstreamScrubsGivenSecretsFromMessage(t *testing.T) {
	const secret = "run-secret-0123456789"
	up := Upstream(Vault, UpstreamAnswer{Status: 400, Code: "invalid",
		Message: "role rejected assertion " + secret}, secret)
	if strings.Contains(up.Message, secret) || strings.Contains(up.Error(), secret) {
		t.Errorf("message %q (error %q) holds the secret", up.Message, up.Error())
	}
	if !strings.Contains(up.Message, "role rejected assertion [redacted]") {
		t.Errorf("message %q lost its text", up.Message)
	}
}

// TestScrubSecretShapes checks that Scrub removes values under every name its doc lists
// as a secret (credential, password in XML too), values of every character a secret may hold
// (percent-encoded, '~', '_', '-', '='), a Vault token of the shortest length matched and a
// JWT whose header segment is the shortest matched.
// Guards against: secretValue without "credential"
// Guards against: secretElement without "password"
// Guards against: secretElement without "credential"
// Guards against: secretValue value class without '%'
// Guards against: secretValue value class without '~'
// Guards against: vaultToken needs 21 characters
// Guards against: jwtShape header needs 5 characters
func TestScrubSecretShapes(t *testing.T) {
	for _, tc := range []struct {
		name, in, leak string
	}{
		{"credentials in JSON", `bad file: {"credentials": "QUJDREVGR0hJSktMTU5PUA"}`,
			"QUJDREVGR0hJSktMTU5PUA"},
		{"password element", `<Password>ABCDEFGHIJKLMNOPQRST</Password>`, "ABCDEFGHIJKLMNOPQRST"},
		{"credential element", `<ClientCredential>ABCDEFGHIJKLMNOPQRST</ClientCredential>`,
			"ABCDEFGHIJKLMNOPQRST"},
		{"percent-encoded value", `client_secret=abc%2Fdefghijklmnopqr&x=1`, "defghijklmnopqr"},
		{"tilde in value", `client_secret=abcdefgh~ijklmnopqr&x=1`, "ijklmnopqr"},
		{"vault token of 20", `token hvs.ABCDEFGHIJKLMNOPQRST refused`, "ABCDEFGHIJKLMNOPQRST"},
		{"JWT header of 4", `assertion eyJhbGc.eyJzdWIiOiJ4In0.c2lnbmF0dXJl refused`,
			"eyJzdWIiOiJ4In0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scrub(tc.in); strings.Contains(got, tc.leak) {
				t.Errorf("Scrub(%q) = %q, still holds %q", tc.in, got, tc.leak)
			}
		})
	}
}
