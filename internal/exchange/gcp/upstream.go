package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// Why a transport-level recorder: externalaccount reports neither call with a typed error.
// The STS exchange (google/internal/stsexchange) and generateAccessToken
// (google/internal/impersonate) both return fmt.Errorf("oauth2/google: status code %d: %s")
// with the raw body, and an STS failure reaches the caller only as text inside the
// impersonation error (wrapped with %v, not %w). So each exchange gets its own transport that
// bounds every call and remembers the last answer, and the error is rebuilt from that answer.

// boundTransport bounds each upstream call (its retries included) by timeout, reads the body
// in full so that the bound can be released, tells rec what happened, and keeps any redirect
// from being followed.
type boundTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	rec     *recorder
}

func (t *boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	step := t.rec.step(req)
	if bearer, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		t.rec.addSecret(bearer) // the federated token, on its way to IAM Credentials
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	defer cancel()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			err = fmt.Errorf("no answer within %s", t.timeout)
		}
		t.rec.answered(answer{step: step, err: err})
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, exchange.MaxResponseBytes+1))
	resp.Body.Close()
	if err == nil && len(body) > exchange.MaxResponseBytes {
		err = exchange.ErrResponseTooLarge
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
			err = fmt.Errorf("answer not read within %s", t.timeout)
		}
		t.rec.answered(answer{step: step, status: resp.StatusCode, err: err})
		return nil, err
	}
	t.rec.answered(answer{step: step, status: resp.StatusCode, body: body})
	// Without a Location an http.Client hands a 3xx back instead of following it. The oauth2
	// library makes its own clients on this transport, so the rule that no redirect is
	// followed (exchange.NewHTTPClient) is kept here, for every call of the exchange.
	resp.Header.Del("Location")
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// recorder keeps, for one exchange, the last upstream answer, the secrets that went upstream
// and a failure of the broker's own token source.
type recorder struct {
	serviceAccount string

	mu          sync.Mutex
	secrets     []string
	supplierErr error
	last        *answer
}

// answer is one upstream call's outcome, as boundTransport saw it.
type answer struct {
	// step names the call, as recorder.step does.
	step string
	// status is the HTTP status of the answer, 0 when none came.
	status int
	// body is the answer's body in full; nil when none came or it could not be read.
	body []byte
	// err is why no answer came or its body could not be read; nil when it was read.
	err error
}

// step names the call req makes, for messages. The IAM call is the one whose path ends in
// ":generateAccessToken"; every other is the STS exchange. The path decides, not the endpoint's
// text as configured: a request's URL spells its scheme and host its own way.
func (r *recorder) step(req *http.Request) string {
	if strings.HasSuffix(req.URL.Path, ":generateAccessToken") {
		return "generateAccessToken for " + r.serviceAccount
	}
	return "STS token exchange"
}

// answered records a as the last upstream answer of the exchange.
func (r *recorder) answered(a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = &a
}

func (r *recorder) addSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = append(r.secrets, s)
}

func (r *recorder) supplierFailed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.supplierErr = err
}

// explain turns the error of externalaccount's Token into broker's: the caller's own
// cancellation, a failure to mint the subject token, or an *exchange.UpstreamError built from
// the last upstream answer, scrubbed of every token that went upstream.
func (r *recorder) explain(ctx context.Context, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("gcp exchange: %w", ctxErr)
	}
	if r.supplierErr != nil {
		return fmt.Errorf("gcp exchange: mint the subject token: %w", r.supplierErr)
	}
	a := r.last
	switch {
	case a == nil:
		// Nothing went upstream: a configuration the client refused, or the overall bound.
		return exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{Message: err.Error()}, r.secrets...)
	case a.err != nil:
		return exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{
			Status: a.status, Message: a.step + ": " + a.err.Error()}, r.secrets...)
	case a.status < 200 || a.status > 299:
		code, message := googleError(a.status, a.body)
		up := exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{
			Status: a.status, Code: code, Message: a.step + ": " + message}, r.secrets...)
		// Google could not fetch broker's discovery document or JWKS: an outage on broker's
		// side, not a refusal of the caller.
		up.Throttled = code == "invalid_grant" && strings.HasPrefix(message, provider.GCPIssuerUnreachable)
		return up
	}
	// A 2xx answer the client could not use (unparseable, no expiry...).
	return exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{
		Status: a.status, Message: a.step + ": unusable answer: " + err.Error()}, r.secrets...)
}

// googleError reads Google's two error shapes: STS's OAuth {"error": "invalid_grant",
// "error_description": "..."} and the JSON APIs' {"error": {"code", "message", "status"}}.
// Anything else is passed on as text.
func googleError(status int, body []byte) (code, message string) {
	var e struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var oauthCode string
		if json.Unmarshal(e.Error, &oauthCode) == nil {
			code, message = oauthCode, e.ErrorDescription
		} else {
			var rpc struct {
				Message string `json:"message"`
				Status  string `json:"status"`
			}
			if json.Unmarshal(e.Error, &rpc) == nil {
				code, message = rpc.Status, rpc.Message
			}
		}
	} else {
		message = strings.TrimSpace(string(body))
	}
	if message == "" {
		message = http.StatusText(status)
	}
	return code, message
}
