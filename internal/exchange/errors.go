package exchange

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/brokerhq/broker/internal/textcut"
)

// UpstreamError is a refusal by the cloud or Vault. The API answers it with 502 upstream_error
// and passes Message on, so Message must already be scrubbed of tokens and secrets.
type UpstreamError struct {
	Provider string
	// Status is the upstream HTTP status, 0 when the call got no answer.
	Status int
	// Code is the upstream's own error code (AccessDenied, invalid_grant, AADSTS70021, ...).
	Code string
	// Message is the upstream's message, scrubbed.
	Message string
	// Throttled marks an answer that says "slow down", or "try again", although its status is
	// a 4xx (STS answers throttling, and AWS STS, Google STS and Entra ID their failure to
	// reach broker's discovery document or JWKS, with 400): a passing failure, not a refusal of
	// the caller.
	Throttled bool
}

// Denied reports whether the upstream answered and refused the caller: a 4xx status other than
// 408 Request Timeout and 429 Too Many Requests, and not a throttling answer. Anything else
// (no answer, 5xx, throttling, a 2xx that could not be used) is a failure, not a refusal.
func (e *UpstreamError) Denied() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout &&
		e.Status != http.StatusTooManyRequests && !e.Throttled
}

// Error implements error: the provider, then Detail.
func (e *UpstreamError) Error() string {
	if e.Status == 0 && e.Message != "" {
		return e.Provider + ": " + e.Detail()
	}
	return e.Provider + " " + e.Detail()
}

// Detail says what happened without naming the provider, each thing once: "answered 403
// AccessDenied: message" when the upstream answered; when it did not, the message alone
// (which says what could not be reached and why), or "could not be reached" without one.
func (e *UpstreamError) Detail() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "answered %d", e.Status)
	} else if e.Message == "" {
		b.WriteString("could not be reached")
	}
	if e.Code != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	return b.String()
}

// UpstreamAnswer is what the cloud or Vault answered, as received: Upstream scrubs it into an
// *UpstreamError. Code and Message may hold secrets or JWTs until Upstream has scrubbed them: never
// format or log an UpstreamAnswer.
type UpstreamAnswer struct {
	// Status is the upstream HTTP status, 0 when the call got no answer.
	Status int
	// Code is the upstream's own error code (AccessDenied, invalid_grant, AADSTS70021, ...), ""
	// when it gave none.
	Code string
	// Message is the upstream's message, or what broker says of a call that got no usable answer.
	Message string
}

// Upstream builds the *UpstreamError of provider from answer: its code and message scrubbed of
// every secret given and of anything shaped like a JWT, both capped in length.
func Upstream(provider string, answer UpstreamAnswer, secrets ...string) *UpstreamError {
	return &UpstreamError{Provider: provider, Status: answer.Status, Code: Scrub(answer.Code, secrets...), Message: Scrub(answer.Message, secrets...)}
}

// jwtShape matches a compact JWS: three base64url segments, the first two starting like JSON.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// secretValue matches a value given under a name that says it is a secret (SecretAccessKey,
// SessionToken, client_secret, X-Vault-Token, password, credentials...) in JSON, a header, a
// query or an INI line, when the value is long enough to be one: group 1 is the name and what
// separates it from the value, group 2 the value. Short values ("token: expired") are words.
// The name and the value may each be quoted with " or ', and each quote escaped any number of
// times (JSON quoted again by an error that formats a process's output with %q reads \").
var secretValue = regexp.MustCompile(`(?i)([\w-]*(?:secret|token|password|passwd|credential)[\w-]*\\*["']?\s*[:=]\s*\\*["']?)([A-Za-z0-9+/=_.~%-]{16,})`)

// secretElement matches the same in XML (<SecretAccessKey>...</SecretAccessKey>).
var secretElement = regexp.MustCompile(`(?i)(<[\w:-]*(?:secret|token|password|credential)[\w:-]*>)([^<]{16,})(</)`)

// urlLogin matches the login of a URL (scheme://user:password@) as URL parsers read it: all
// after the scheme up to the last '@' before the path, so that an '@' in a path (a service
// account's email) stays.
var urlLogin = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s]*@`)

// vaultToken matches Vault's service, batch and recovery tokens wherever they are.
var vaultToken = regexp.MustCompile(`\bhv[sbr]\.[A-Za-z0-9_-]{20,}`)

// maxMessage caps an upstream message passed to callers, in bytes; the cap falls on the start
// of a character, so a capped message stays valid UTF-8.
const maxMessage = 1000

// Scrub removes from s the secrets given, logins written into URLs, JWT-shaped strings, Vault
// tokens and the values of fields named as secrets (an SDK's error may quote a credentials file
// or a process's output), puts it on one printable line (textcut.OneLine: an upstream's control
// characters would reach the caller's terminal and the trail), and caps its length.
func Scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	s = urlLogin.ReplaceAllString(s, "${1}REDACTED@")
	s = jwtShape.ReplaceAllString(s, "[redacted-jwt]")
	s = vaultToken.ReplaceAllString(s, "[redacted]")
	s = secretValue.ReplaceAllString(s, "${1}[redacted]")
	s = secretElement.ReplaceAllString(s, "${1}[redacted]${3}")
	s = textcut.OneLine(s)
	if len(s) > maxMessage {
		s = textcut.Prefix(s, maxMessage) + "…"
	}
	return s
}
