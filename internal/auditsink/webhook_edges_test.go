package auditsink_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// answer is a RoundTripper that answers every request with status and keeps the last request's
// body and signature.
type answer struct {
	status    int
	body, sig string
}

func (a *answer) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	a.body, a.sig = string(b), r.Header.Get(auditsink.SignatureHeader)
	return &http.Response{StatusCode: a.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// TestWebhookCountsOnly2xx pins that only a 2xx answer counts as delivered: an
// informational 1xx (101 included, which a client hands back as final) or a 3xx is
// ErrRejected, so the events are sent again instead of being lost.
// Guards against: webhook.go:102 drop `resp.StatusCode < 200 ||`
// Guards against: webhook.go:102 `resp.StatusCode < 200` -> `< 100`
func TestWebhookCountsOnly2xx(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
	}{{101, false}, {199, false}, {200, true}, {204, true}, {299, true}, {300, false}, {304, false}, {400, false}} {
		tr := &answer{status: tc.status}
		err := auditsink.NewWebhook(auditsink.WebhookConfig{URL: "http://127.0.0.1:1/in", Transport: tr}).
			Deliver(context.Background(), []audit.Event{{ID: "a"}})
		if tc.ok && err != nil {
			t.Errorf("status %d: %v, want delivered", tc.status, err)
		}
		if !tc.ok && !errors.Is(err, auditsink.ErrRejected) {
			t.Errorf("status %d: %v, want ErrRejected", tc.status, err)
		}
	}
}

// TestWebhookKeepsItsOwnSecret pins that a Webhook signs with the secret it was given even
// if the caller's slice changes later (it keeps a copy).
// Guards against: webhook.go:56 `bytes.Clone(cfg.Secret)` -> `cfg.Secret`
func TestWebhookKeepsItsOwnSecret(t *testing.T) {
	secret := []byte("k3y")
	tr := &answer{status: 200}
	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: "http://127.0.0.1:1/in", Secret: secret, Transport: tr})
	for i := range secret {
		secret[i] = 0
	}
	if err := wh.Deliver(context.Background(), []audit.Event{{ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if want := auditsink.Sign([]byte("k3y"), []byte(tr.body)); tr.sig != want {
		t.Errorf("signature %q, want %q (signed under the configured secret)", tr.sig, want)
	}
}
