package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// stopSlowSink is a webhook receiver that takes delay per delivery and keeps the ids of the
// deliveries it answered to a sender still waiting for the answer.
type stopSlowSink struct {
	mu  sync.Mutex
	got map[string]bool
	// delay is how long a delivery takes; 300ms when zero.
	delay time.Duration
}

func (p *stopSlowSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Events []audit.Event }
	_ = json.NewDecoder(r.Body).Decode(&body)
	time.Sleep(cmp.Or(p.delay, 300*time.Millisecond))
	if r.Context().Err() != nil {
		return // the sender gave up: not delivered
	}
	p.mu.Lock()
	for _, e := range body.Events {
		p.got[e.ID] = true
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// TestStopPastTimeoutFlushesCutRequestsEvents: a graceful stop lets each audit sink take
// the events recorded until the replica exits. A credentials request still in flight when
// http.shutdown_timeout passes has its connection cut, but its handler goes on and records its
// credentials.issue event; the sinks' flush must come after it (with the memory store an event
// the sinks miss at the stop is lost to them for good), and must not be skipped because the
// timeout is spent.
func TestStopPastTimeoutFlushesCutRequestsEvents(t *testing.T) {
	sink := &stopSlowSink{got: map[string]bool{}}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	hung, entered := make(chan struct{}), make(chan struct{})
	var once sync.Once
	emu, late := startEmulator(t)
	late.set(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		once.Do(func() { close(entered) })
		<-hung
	}))
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: 1s}
integrations:
  - {id: vault-read, space: prod, vault: {address: %q, role: r}, timeout: 20s}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
audit:
  sinks:
    - name: siem
      webhook: {url: %q}
`, emu.URL, recv.URL)})
	defer close(hung)
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	go stopAskCredentials(ts.URL, run.RunToken)
	<-entered
	ts.stop()
	time.Sleep(time.Second) // deliveries under way end
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, e := range ts.chain(t) {
		if !sink.got[e.ID] {
			t.Errorf("stopped without delivering event %s (%s, %s) to the sink", e.ID, e.Action, e.Outcome)
		}
	}
}

// stopAskCredentials posts a vault credentials request with token to url, ignoring the answer.
func stopAskCredentials(url, token string) {
	req, _ := http.NewRequest("POST", url+"/v1/credentials", strings.NewReader(`{"provider":"vault"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// TestStopFlushesBackgroundEvents: the events the replica's own background tasks record
// (here a key rotation, keys.rotate) reach the sinks too when it stops: no task records an
// event after the sinks' final flush. Here a request in flight delays the flush by 200ms, a
// connection that reaches the replica in its drain keeps the port open a second past it, and
// the clock moves a rotation period meanwhile.
func TestStopFlushesBackgroundEvents(t *testing.T) {
	sink := &stopSlowSink{got: map[string]bool{}, delay: 1500 * time.Millisecond}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ts := startServer(t, serverOptions{now: clock.Now, keyRefresh: 20 * time.Millisecond,
		rotation: &rotationOptions{"10m", "2m", "3m", "1m"},
		extraYAML: fmt.Sprintf("\nhttp: {shutdown_timeout: 5s}\naudit:\n  sinks:\n"+
			"    - name: siem\n      webhook: {url: %q}\n", recv.URL)})
	waitFor(t, "the sink to catch up", func() bool { return len(stopMissed(t, ts, sink)) == 0 })
	addr := strings.TrimPrefix(ts.URL, "http://")
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// A request refused as invalid (no event) whose body ends 200ms into the stop.
	_, _ = io.WriteString(slow, "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+
		adminSecret+"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{")
	time.Sleep(50 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }()
	time.Sleep(50 * time.Millisecond)
	if c, err := net.Dial("tcp", addr); err == nil {
		defer c.Close()
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // a head never ended
	}
	time.Sleep(150 * time.Millisecond)
	_, _ = io.WriteString(slow, "}")
	time.Sleep(300 * time.Millisecond)
	clock.Advance(10 * time.Minute) // a rotation is due
	<-stopped
	time.Sleep(2 * time.Second) // deliveries under way end
	for _, e := range stopMissed(t, ts, sink) {
		t.Errorf("stopped without delivering event %s (%s) to the sink", e.ID, e.Action)
	}
}

// stopMissed is the events of ts's chain that sink has not received.
func stopMissed(t *testing.T, ts *testServer, sink *stopSlowSink) []audit.Event {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var out []audit.Event
	for _, e := range ts.chain(t) {
		if !sink.got[e.ID] {
			out = append(out, e)
		}
	}
	return out
}
