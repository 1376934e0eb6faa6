package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// MaxResponseBytes caps every upstream response body broker reads.
const MaxResponseBytes = 1 << 20

// ErrResponseTooLarge is returned when an upstream body exceeds MaxResponseBytes.
var ErrResponseTooLarge = errors.New("upstream response larger than 1 MiB")

// ClientOptions configures NewHTTPClient.
type ClientOptions struct {
	// Base is the transport under the retries; nil means a clone of http.DefaultTransport,
	// which trusts the system certificate pool (SSL_CERT_FILE) and honours proxy variables.
	Base http.RoundTripper
	// MaxAttempts bounds tries per call (default 3).
	MaxAttempts int
	// Backoff is the first retry's delay, doubled each time, with jitter (default 200ms).
	Backoff time.Duration
	// Retryable decides whether an answer is worth retrying; nil means 429 or 5xx. body is the
	// already-read response body.
	Retryable func(status int, body []byte) bool
}

// NewHTTPClient returns a client for upstream calls: it retries with backoff only answers that
// Retryable accepts (throttling, 5xx; never a network error, never a 4xx refusal), honours
// Retry-After up to 5s, stops when the request's context ends, and caps response bodies. It
// follows no redirect: the upstreams never redirect the calls that carry a broker token, and
// following one would re-send that token to another origin, possibly in clear text; the
// redirect itself is the answer, an error to the caller.
func NewHTTPClient(opts ClientOptions) *http.Client {
	if opts.Base == nil {
		opts.Base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.Retryable == nil {
		opts.Retryable = ThrottledOr5xx
	}
	return &http.Client{
		Transport:     &retryTransport{opts: opts},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ThrottledOr5xx is the default retry rule: 429 Too Many Requests or any 5xx.
func ThrottledOr5xx(status int, _ []byte) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

type retryTransport struct {
	opts ClientOptions
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.Body != nil {
			if req.GetBody == nil {
				return nil, fmt.Errorf("retry %s: request body cannot be replayed", req.URL.Redacted())
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		resp, err := t.opts.Base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		body, err := readCapped(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		if attempt >= t.opts.MaxAttempts || !t.opts.Retryable(resp.StatusCode, body) {
			return resp, nil
		}
		if err := sleep(req.Context(), t.delay(attempt, resp)); err != nil {
			return resp, nil // out of time: hand back the last answer rather than a bare timeout
		}
	}
}

// delay is exponential backoff with jitter, or the server's Retry-After when it is 0 to 5 seconds.
func (t *retryTransport) delay(attempt int, resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 && s <= 5 {
		return time.Duration(s) * time.Second
	}
	d := t.opts.Backoff << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upstream response: %w", err)
	}
	if len(data) > MaxResponseBytes {
		return nil, ErrResponseTooLarge
	}
	return data, nil
}
