package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// TestReloadInProgressAtStopIsFlushed: no event is recorded after the audit sinks' final
// flush. A reload whose SIGHUP passed serve's check just before the stop (config.Load, then
// Server.Reload, still under way while the drain flushes) ends with Reload called once Serve
// has returned; serve waits for it before closing. Its config.reload event must reach the
// sinks, or the reload must be refused without recording anything: with the memory store an
// event the sinks miss at the stop is lost to them for good.
func TestReloadInProgressAtStopIsFlushed(t *testing.T) {
	sink := &stopSlowSink{got: map[string]bool{}, delay: 10 * time.Millisecond}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(
		"\nhttp: {shutdown_timeout: 1s}\naudit:\n  sinks:\n"+
			"    - name: siem\n      webhook: {url: %q}\n", recv.URL)})
	waitFor(t, "the sink to catch up", func() bool { return len(stopMissed(t, ts, sink)) == 0 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve's reload context ends with the stop
	ts.stop()
	_ = ts.srv.Reload(ctx, ts.srv.cfg, nil) // the reload that was under way ends
	time.Sleep(500 * time.Millisecond)
	for _, e := range stopMissed(t, ts, sink) {
		t.Errorf("event %s (%s, %s) recorded after the sinks' final flush", e.ID, e.Action, e.Outcome)
	}
}
