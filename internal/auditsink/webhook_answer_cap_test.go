package auditsink_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// TestWebhookReadsABoundedAnswer: a receiver that accepts the events and then streams
// an answer without end must not hold the delivery until its timeout: broker reads at most
// maxResponseRead (64 KiB) of an answer and is done.
func TestWebhookReadsABoundedAnswer(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 32<<10)
		for {
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	defer close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := auditsink.NewWebhook(auditsink.WebhookConfig{URL: srv.URL}).Deliver(ctx, []audit.Event{{ID: "a"}})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Deliver read the endless answer for %v (err %v); want it to stop after 64 KiB", took, err)
	}
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}
