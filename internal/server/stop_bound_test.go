package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// TestStopEndsWithinStopBound: a graceful stop whose every wait runs to its end (a credentials
// request hung upstream past http.shutdown_timeout, and an audit sink that never answers a
// delivery) still ends within config.HTTP.StopBound, the bound the systemd unit's and the
// chart's stop timeouts are checked against.
func TestStopEndsWithinStopBound(t *testing.T) {
	hung, entered := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sink := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	defer sink.Close() // after the hung deliveries are let go
	defer close(hung)
	emu, late := startEmulator(t)
	late.set(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		once.Do(func() { close(entered) })
		<-hung
	}))
	const shutdown = 2 * time.Second
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: %s}
integrations:
  - {id: vault-read, space: prod, vault: {address: %q, role: r}, timeout: 60s}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
audit:
  sinks:
    - name: siem
      webhook: {url: %q, timeout: 60s}
`, shutdown, emu.URL, sink.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	go stopAskCredentials(ts.URL, run.RunToken)
	<-entered
	began := time.Now()
	ts.stop()
	took := time.Since(began)
	// The bound holds its own second of slack (the drain's last answers end at once here);
	// a quarter second more absorbs this machine's scheduling.
	bound := config.HTTP{ShutdownTimeout: shutdown}.StopBound()
	if took > bound+250*time.Millisecond {
		t.Errorf("stop took %s, more than StopBound %s", took.Round(time.Millisecond), bound)
	}
	if floor := shutdown + min(shutdown, sinkFlushFloor); took < floor {
		t.Errorf("stop took %s, less than the timeout plus the sinks' flush (%s): a wait was skipped", took.Round(time.Millisecond), floor)
	}
}
