package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// entraError is the error document Entra ID answers with.
type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
}

// entraCall is the call to Entra ID that upstreamError explains: where it went and how long it had.
type entraCall struct {
	// authority is the authority host the call went to, named in messages of unanswered calls.
	authority string
	// timeout bounded the call, named in the message of a call that timed out.
	timeout time.Duration
}

// upstreamError turns a GetToken failure of call into the error the API passes on: Entra's own
// code and description when Entra answered, a Status 0 error naming the authority when it did
// not (network failure, timeout, or an answer the SDK could not use). secrets are scrubbed.
func upstreamError(ctx context.Context, err error, call entraCall, secrets []string) *exchange.UpstreamError {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		return fromResponse(afe.RawResponse, secrets)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{
			Message: fmt.Sprintf("Entra ID at %s did not answer within %s", call.authority, call.timeout)})
	}
	return exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{
		Message: fmt.Sprintf("Entra ID at %s %s", call.authority, failureReason(err.Error()))})
}

// causeText is err's text for the debug log, scrubbed of secrets. Microsoft's client quotes a 200
// answer it could not decode after "raw message was:", access token included: that part is
// withheld.
func causeText(err error, secrets []string) string {
	s := err.Error()
	if i := strings.Index(s, "raw message was"); i >= 0 {
		s = s[:i] + "(the answer withheld)"
	}
	return exchange.Scrub(s, secrets...)
}

// failureReason names the likely cause of an unanswered call. azidentity keeps only the text
// of the underlying error, so this reads the text.
func failureReason(msg string) string {
	switch {
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return "could not be reached: TLS handshake failed (is its certificate trusted?)"
	case strings.Contains(msg, "connection refused"):
		return "could not be reached: connection refused"
	case strings.Contains(msg, "no such host"):
		return "could not be reached: host not found"
	case strings.Contains(msg, "TenantDiscoveryResponse") || strings.Contains(msg, "ResolveEndpoints"):
		return "served an OpenID configuration that could not be used"
	}
	return "could not be reached or gave no usable answer"
}

// fromResponse reads Entra's error document from resp.
func fromResponse(resp *http.Response, secrets []string) *exchange.UpstreamError {
	var body entraError
	var data []byte
	if resp.Body != nil {
		data, _ = io.ReadAll(io.LimitReader(resp.Body, exchange.MaxResponseBytes))
		resp.Body = io.NopCloser(bytes.NewReader(data)) // the SDK's Error() reads it again
	}
	if json.Unmarshal(data, &body) != nil || (body.Error == "" && len(body.ErrorCodes) == 0) {
		return exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{Status: resp.StatusCode,
			Message: fmt.Sprintf("unexpected answer from Entra ID: %s", http.StatusText(resp.StatusCode))})
	}
	code := body.Error
	if len(body.ErrorCodes) > 0 {
		code = fmt.Sprintf("AADSTS%d", body.ErrorCodes[0])
	}
	// The code is reported on its own; do not repeat it at the start of the message.
	msg := strings.TrimPrefix(body.ErrorDescription, code+": ")
	if msg == "" {
		msg = body.Error
	}
	up := exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{Status: resp.StatusCode, Code: code, Message: msg}, secrets...)
	// Entra could not fetch broker's discovery document or JWKS: an outage on broker's side,
	// not a refusal of the caller.
	up.Throttled = code == issuerUnreachable
	return up
}

// issuerUnreachable is Entra's code for a failed fetch of the assertion issuer's discovery
// document or JWKS, as the answer's code reads.
var issuerUnreachable = fmt.Sprintf("AADSTS%d", provider.AzureIssuerUnreachable)
