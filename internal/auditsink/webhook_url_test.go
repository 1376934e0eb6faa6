package auditsink_test

import (
	"context"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// TestWebhookBadURLErrorHidesIt pins that a webhook URL the request cannot even be built
// from (a malformed escape after a token in its path) fails the delivery with an error that
// names neither the URL nor the token in it.
// Guards against: webhook.go:Deliver build-request error -> fmt.Errorf("build request: %w", err)
func TestWebhookBadURLErrorHidesIt(t *testing.T) {
	for _, u := range []string{
		"http://127.0.0.1:1/hooks/T0K3N-s3cr3t/%zz",
		"http://127.0.0.1:1/hooks/T0K3N-s3cr3t\x7f",
		"http://user:T0K3N-s3cr3t@127.0.0.1:1/%",
	} {
		err := auditsink.NewWebhook(auditsink.WebhookConfig{URL: u}).Deliver(context.Background(), []audit.Event{{ID: "a"}})
		if err == nil || strings.Contains(err.Error(), "T0K3N") || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Deliver to a malformed URL: %v; want an error naming neither the URL nor its token", err)
		}
	}
}
