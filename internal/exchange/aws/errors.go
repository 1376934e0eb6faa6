package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// Retryable is the AWS retry rule for exchange.NewHTTPClient: 429 and 5xx, and 400 answers
// whose STS error says the failure is passing (throttling, or STS could not reach the identity
// provider).
func Retryable(status int, body []byte) bool {
	if exchange.ThrottledOr5xx(status, body) {
		return true
	}
	return status == http.StatusBadRequest && passing(errorOf(body))
}

// passing reports whether an STS error says the failure is not a refusal of the caller but
// passes: the caller is being throttled, or STS could not reach the identity provider (broker's
// discovery document or JWKS), which STS answers as IDPCommunicationError or as an
// InvalidIdentityToken saying it could not retrieve the verification key. AWS's own clients
// retry both.
func passing(e stsAnswer) bool {
	switch e.Code {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "IDPCommunicationError":
		return true
	case "InvalidIdentityToken":
		return strings.HasPrefix(e.Message, provider.AWSIssuerUnreachable)
	}
	return false
}

// stsAnswer is the code and message of an STS error answer.
type stsAnswer struct{ Code, Message string }

// errorOf reads Code and Message from an STS ErrorResponse document, zero when body is not one.
func errorOf(body []byte) stsAnswer {
	var doc struct {
		Error stsAnswer `xml:"Error"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return stsAnswer{}
	}
	return doc.Error
}

// failed turns an SDK error into what Exchange returns and logs it at debug, timed from c.start
// (the Info line of every exchange is exchange.Observe's):
//   - STS answered with an error: *exchange.UpstreamError with STS's status, code and message;
//   - the caller's ctx ended: that context error, wrapped;
//   - no usable answer (timeout, network): *exchange.UpstreamError with status 0 and a generic
//     message naming the endpoint host.
//
// secrets (the web identity token, broker's own credentials) are scrubbed from everything passed
// on or logged.
func (x *Exchanger) failed(ctx, callCtx context.Context, c *call, err error, secrets ...string) error {
	status := 0
	var withStatus interface{ HTTPStatusCode() int }
	if errors.As(err, &withStatus) {
		status = withStatus.HTTPStatusCode()
	}
	var (
		out     error
		apiErr  smithy.APIError
		timeout = callCtx.Err() != nil && ctx.Err() == nil
	)
	switch {
	case errors.As(err, &apiErr) && status != 0:
		up := exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{
			Status: status, Code: apiErr.ErrorCode(), Message: apiErr.ErrorMessage()}, secrets...)
		up.Throttled = passing(stsAnswer{Code: apiErr.ErrorCode(), Message: apiErr.ErrorMessage()})
		out = up
	case ctx.Err() != nil:
		out = fmt.Errorf("aws exchange: %w", ctx.Err())
	case timeout:
		out = exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{Message: "STS at " + c.endpoint + " could not be reached: timeout"})
	case status != 0:
		out = exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{
			Status: status, Message: "STS at " + c.endpoint + " answered with a response that could not be read"})
	default:
		out = exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{
			Message: "STS at " + c.endpoint + " could not be reached: " + networkReason(err)})
	}
	x.logCall(ctx, c, slog.Int(exchange.FieldUpstreamStatus, status),
		slog.String(exchange.FieldErr, exchange.Scrub(out.Error(), secrets...)),
		slog.String("cause", exchange.Scrub(err.Error(), secrets...)))
	return out
}

// networkReason names why a call got no answer, without echoing anything upstream sent.
func networkReason(err error) string {
	var (
		dnsErr     *net.DNSError
		netErr     net.Error
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		recordErr  tls.RecordHeaderError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return "TLS certificate not trusted"
	case errors.As(err, &recordErr):
		return "TLS handshake failed"
	case errors.Is(err, exchange.ErrResponseTooLarge):
		return "response too large"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "network error"
}

// baseFailed is the error of an assume-role exchange whose own AWS credentials (the SDK's chain:
// environment, shared files, container or instance role) did not load: the caller's own
// cancellation as it is, anything else an upstream failure (502, not a store outage) that says
// only that the credentials did not load, or not in time; the chain's own words go to the log.
func (x *Exchanger) baseFailed(ctx, callCtx context.Context, c *call, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("aws exchange: %w", ctx.Err())
	}
	msg := "broker's own AWS credentials, with which it assumes roles, could not be loaded"
	if callCtx.Err() != nil {
		msg += " within " + exchange.Timeout(c.in).String()
	}
	x.log.LogAttrs(ctx, slog.LevelWarn, "aws exchange: broker's own AWS credentials did not load",
		slog.String(exchange.FieldIntegration, c.in.ID), slog.String(exchange.FieldErr, exchange.Scrub(err.Error())))
	return exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{Message: msg + " (the server log has the details)"})
}
