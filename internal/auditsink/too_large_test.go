package auditsink_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// smallBodies is a webhook receiver that answers 413 to a body of more than max events
// and records the ids of the events of the bodies it accepts.
type smallBodies struct {
	max int
	mu  sync.Mutex
	ids []string
}

func (p *smallBodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Events []audit.Event `json:"events"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if len(body.Events) > p.max {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range body.Events {
		p.ids = append(p.ids, e.ID)
	}
}

func (p *smallBodies) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids)
}

// TestWebhookTooLargeBodyIsSplit checks that a webhook refusing a body as too large (413) but
// taking a smaller one still receives every event: a batch it finds too large is sent again in
// smaller ones, rather than whole for ever.
func TestWebhookTooLargeBodyIsSplit(t *testing.T) {
	recv := &smallBodies{max: 1}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	m := audit.NewMemory()
	f, err := auditsink.New(auditsink.Config{
		Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{
			Name: "siem", Sink: auditsink.NewWebhook(auditsink.WebhookConfig{URL: srv.URL}),
			MaxBatch: 8, MaxBackoff: 20 * time.Millisecond,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	appendN(t, store, 0, 4)
	stop := f.Start(context.Background())
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for recv.count() < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := recv.count(); n < 4 {
		t.Fatalf("the receiver got %d of 4 events: every body of more than one event was "+
			"answered 413 and retried whole", n)
	}
}
