package auditsink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/brokerhq/broker/internal/audit"
)

// SignatureHeader carries a webhook body's signature: "sha256=" and the lowercase hex
// HMAC-SHA256 of the body under the sink's secret.
const SignatureHeader = "X-Broker-Signature"

// maxResponseRead bounds how much of a receiver's answer is read (and thrown away), so that
// the connection can be reused without a receiver making broker read without end.
const maxResponseRead = 64 << 10

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// URL receives the POSTs.
	URL string
	// Secret, when not empty, keys the signature of every body.
	Secret []byte
	// Transport carries the requests; a clone of http.DefaultTransport when nil.
	Transport http.RoundTripper
}

// Webhook posts {"events": [...]} to a URL and counts any 2xx answer as delivered. Redirects
// are not followed (a 3xx is a failed delivery), so events only go to the configured URL.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
}

// NewWebhook returns a Webhook for cfg. Each request is bounded by its context's deadline.
func NewWebhook(cfg WebhookConfig) *Webhook {
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport
		if t, ok := tr.(*http.Transport); ok {
			tr = t.Clone()
		}
	}
	return &Webhook{
		url:    cfg.URL,
		secret: bytes.Clone(cfg.Secret),
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// webhookBody is the body of every POST.
type webhookBody struct {
	Events []audit.Event `json:"events"`
}

// Sign returns the X-Broker-Signature value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver implements Sink. Its errors name the status or the transport failure, never the URL
// (a webhook's path may hold a token) nor the secret.
func (w *Webhook) Deliver(ctx context.Context, events []audit.Event) error {
	body, err := json.Marshal(webhookBody{Events: events})
	if err != nil {
		return fmt.Errorf("encode events: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("build request: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "broker-audit-sink")
	if len(w.secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.secret, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		return fmt.Errorf("%w: %w: status %d", ErrRejected, ErrTooLarge, resp.StatusCode)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: status %d", ErrRejected, resp.StatusCode)
	}
	return nil
}
