package auditsink_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
	"github.com/prometheus/client_golang/prometheus"
)

// TestStatsNameTheTargets: Stats reports each worker under its target's configured Name,
// in the order of the targets, so an operator can tell which sink lags.
// Guards against: forwarder.go:Stats `Name: w.Name` -> `Name: ""`
func TestStatsNameTheTargets(t *testing.T) {
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(),
		Cursors: audit.NewMemoryCursors(nil),
		Targets: []auditsink.Target{
			{Name: "siem", Sink: (&recorder{}).as("a")},
			{Name: "file-1", Sink: (&recorder{}).as("b")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	st := f.Stats()
	if len(st) != 2 || st[0].Name != "siem" || st[1].Name != "file-1" {
		t.Errorf("stats %+v, want the workers of siem then file-1", st)
	}
}

// TestWatchWithoutTargetsIsTheStore: with no sink configured, Watch hands back the store
// itself, unwrapped: it keeps every interface the store has, and no more (a plain store does
// not turn into a CheckedStore that refuses every checked append).
// Guards against: forwarder.go:Watch `len(f.workers) == 0` -> `false` (always wrapped)
func TestWatchWithoutTargetsIsTheStore(t *testing.T) {
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(),
		Cursors: audit.NewMemoryCursors(nil)})
	if err != nil {
		t.Fatal(err)
	}
	m := audit.NewMemory()
	got := f.Watch(m)
	if got != audit.Store(m) {
		t.Errorf("Watch without targets returned %T, want the store itself", got)
	}
	if _, ok := got.(audit.CheckedStore); ok {
		t.Error("Watch without targets made a plain store a CheckedStore")
	}
}

// TestDrainTwice: Drain may be called more than once (a second shutdown path, a retry
// after its context ended); the second call returns like the first instead of panicking.
// Guards against: forwarder.go:Drain `drainOnce.Do(close)` -> `close(f.drain)` (close of a closed
// channel)
func TestDrainTwice(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 2)
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m,
		Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f.Drain(ctx)
	f.Drain(ctx)
	if ctx.Err() != nil {
		t.Fatal("Drain waited out its context")
	}
	if got := len(rec.all()); got != 2 {
		t.Errorf("the sink got %d events, want 2", got)
	}
}

// TestNilLoggerIsTheDefault: a Config without a Logger logs failed deliveries to
// slog.Default(), so a failing sink is never silent.
// Guards against: forwarder.go:New nil Logger -> a discarding logger instead of slog.Default()
func TestNilLoggerIsTheDefault(t *testing.T) {
	var logs syncbuf.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	m := audit.NewMemory()
	appendN(t, m, 0, 1)
	sink := &failing{}
	f, err := auditsink.New(auditsink.Config{Chain: m,
		Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: sink, MaxBackoff: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "a failure logged to slog.Default()", func() bool {
		return strings.Contains(logs.String(), "delivery failed")
	})
}

// TestCollectorDescribesItsMetric: the collector describes the metrics it collects,
// broker_audit_sink_pending_events and broker_audit_sink_rewinds_total, so a registry checks
// them (a second registration of the same metric is refused at start instead of failing every
// scrape).
// Guards against: metrics.go:Describe sends nothing (an unchecked collector)
func TestCollectorDescribesItsMetric(t *testing.T) {
	newF := func() *auditsink.Forwarder {
		f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(),
			Cursors: audit.NewMemoryCursors(nil),
			Targets: []auditsink.Target{{Name: "siem", Sink: (&recorder{}).as("a")}}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ch := make(chan *prometheus.Desc, 4)
	newF().Collector().Describe(ch)
	close(ch)
	var descs []string
	for d := range ch {
		descs = append(descs, d.String())
	}
	if len(descs) != 2 || !strings.Contains(descs[0], `"broker_audit_sink_pending_events"`) ||
		!strings.Contains(descs[1], `"broker_audit_sink_rewinds_total"`) {
		t.Errorf("described %v, want broker_audit_sink_pending_events and broker_audit_sink_rewinds_total", descs)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(newF().Collector()); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(newF().Collector()); err == nil {
		t.Error("a second collector of the same metric was registered")
	}
}

// endlessReader is an answer body without end that counts the bytes read from it.
type endlessReader struct{ read atomic.Int64 }

func (b *endlessReader) Read(p []byte) (int, error) {
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *endlessReader) Close() error { return nil }

// endlessTransport answers every request 200 with body.
type endlessTransport struct{ body *endlessReader }

func (p endlessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: p.body, Request: r}, nil
}

// TestWebhookReadsAtMost64KiBOfAnAnswer: of a receiver's answer, broker reads 64 KiB at
// most (a little more for the read buffer), however much the receiver sends.
// Guards against: webhook.go:maxResponseRead 64<<10 -> 64<<20
func TestWebhookReadsAtMost64KiBOfAnAnswer(t *testing.T) {
	body := &endlessReader{}
	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: "http://127.0.0.1:1/in",
		Transport: endlessTransport{body}})
	if err := wh.Deliver(context.Background(), []audit.Event{{ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if n := body.read.Load(); n < 64<<10 || n > 64<<10+32<<10 {
		t.Errorf("read %d bytes of an endless answer, want 64 KiB (and the rest of one buffer)", n)
	}
}

// TestWebhookReusesItsConnection: a receiver's short answer is read to its end, so
// consecutive deliveries go over one kept-alive connection instead of a new one each.
// Guards against: webhook.go:Deliver drop the read of the answer before closing it
func TestWebhookReusesItsConnection(t *testing.T) {
	var conns atomic.Int64
	accept := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "accepted")
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(accept))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	wh := auditsink.NewWebhook(auditsink.WebhookConfig{URL: srv.URL + "/in"})
	for range 3 {
		if err := wh.Deliver(context.Background(), []audit.Event{{ID: "a"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 deliveries opened %d connections, want 1", n)
	}
}
