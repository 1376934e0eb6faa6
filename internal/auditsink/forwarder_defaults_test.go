package auditsink_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// deadlineSink fails every delivery after recording how far off its context's deadline was.
type deadlineSink struct {
	mu   sync.Mutex
	left []time.Duration
}

func (s *deadlineSink) Deliver(ctx context.Context, _ []audit.Event) error {
	d, ok := ctx.Deadline()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		s.left = append(s.left, -1)
	} else {
		s.left = append(s.left, time.Until(d))
	}
	return errors.New("receiver down")
}

// TestZeroTargetFieldsTakeTheDefaults pins that a target's zero MaxBatch, Timeout and
// MaxBackoff mean their defaults: Stats reports DefaultMaxBatch, a delivery gets about
// DefaultTimeout, and the first retry of a failing delivery waits the shortest backoff (50-100ms),
// not zero.
// Guards against: forwarder.go:MaxBatch default assigned 1000 instead of DefaultMaxBatch
// Guards against: forwarder.go:Stats drops MaxBatch
// Guards against: forwarder.go:`t.Timeout <= 0` -> `< 0` (zero timeout: every delivery expires at
// once)
// Guards against: forwarder.go:`t.MaxBackoff <= 0` -> `< 0` (zero backoff: a failing sink is
// hammered)
func TestZeroTargetFieldsTakeTheDefaults(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 1)
	sink := &deadlineSink{}
	var logs syncbuf.Buffer
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: sink}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Stats()[0].MaxBatch; got != auditsink.DefaultMaxBatch {
		t.Errorf("MaxBatch %d, want DefaultMaxBatch %d", got, auditsink.DefaultMaxBatch)
	}
	stop := f.Start(context.Background())
	defer stop()
	re := regexp.MustCompile(`delivery failed.* retry_in=(\S+)`)
	eventually(t, "a failed attempt logged", func() bool { return re.MatchString(logs.String()) })
	stop()
	wait, err := time.ParseDuration(re.FindStringSubmatch(logs.String())[1])
	if err != nil || wait < 50*time.Millisecond || wait > 100*time.Millisecond {
		t.Errorf("first retry in %v (%v), want within [50ms, 100ms]", wait, err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.left) == 0 || sink.left[0] < auditsink.DefaultTimeout/2 {
		t.Errorf("delivery deadlines %v, want about DefaultTimeout (%v)", sink.left, auditsink.DefaultTimeout)
	}
}

// TestLeaseOutlastsAnIdlePoll pins that the lease a worker claims lasts longer than the wait
// between two idle steps (the poll, DefaultPoll when zero), however short the delivery timeout:
// otherwise an idle holder loses its lease between renewals and replicas take turns.
// Guards against: forwarder.go:`cfg.Poll <= 0` -> `< 0` (zero poll kept)
// Guards against: forwarder.go:leaseTTL `3*cfg.Poll + 2*t.Timeout` -> `2*t.Timeout`
func TestLeaseOutlastsAnIdlePoll(t *testing.T) {
	for _, poll := range []time.Duration{0, 50 * time.Millisecond} {
		cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
		f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cur, Poll: poll,
			Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a"), Timeout: time.Millisecond}}})
		if err != nil {
			t.Fatal(err)
		}
		stop := f.Start(context.Background())
		eventually(t, "a claim", func() bool { return cur.claims.Load() > 0 })
		stop()
		want := poll
		if want == 0 {
			want = auditsink.DefaultPoll
		}
		cur.mu.Lock()
		for _, ttl := range cur.ttls {
			if ttl <= want {
				t.Errorf("poll %v: lease claimed for %v, want more than the poll %v", poll, ttl, want)
			}
		}
		cur.mu.Unlock()
	}
}

// closeTrackingBody is a response body that records whether it was closed.
type closeTrackingBody struct {
	io.Reader
	closed bool
}

func (b *closeTrackingBody) Close() error { b.closed = true; return nil }

// recordingTransport answers 200 with a recording body and keeps the last request.
type recordingTransport struct {
	req  *http.Request
	body *closeTrackingBody
}

func (p *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p.req = r
	p.body = &closeTrackingBody{Reader: strings.NewReader("ok")}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: p.body, Request: r}, nil
}

// TestWebhookPostsAndClosesTheAnswer pins that a webhook delivery is a POST identifying
// itself as the broker's audit sink, and that the receiver's answer body is closed after reading,
// so the connection is returned to the pool instead of leaking.
// Guards against: webhook.go:MethodPost -> MethodPut
// Guards against: webhook.go:drop User-Agent header
// Guards against: webhook.go:drop resp.Body.Close()
func TestWebhookPostsAndClosesTheAnswer(t *testing.T) {
	tr := &recordingTransport{}
	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: "http://127.0.0.1:1/in", Transport: tr})
	if err := wh.Deliver(context.Background(), []audit.Event{{ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if tr.req.Method != http.MethodPost {
		t.Errorf("method %s, want POST", tr.req.Method)
	}
	if ua := tr.req.Header.Get("User-Agent"); ua != "broker-audit-sink" {
		t.Errorf("User-Agent %q, want broker-audit-sink", ua)
	}
	if !tr.body.closed {
		t.Error("the answer's body was not closed")
	}
}
