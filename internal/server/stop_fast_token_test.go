package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
)

// stackHolds reports whether the calling goroutine's stack names fn.
func stackHolds(fn string) bool {
	buf := make([]byte, 16<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte(fn))
}

// TestStopWaitsForATokenRequestOnTheFastPath: a token request the fast path read (head and
// body in one write, on the plain-HTTP listener) and still in flight when the replica stops is
// answered, and its token.issue event reaches the audit sinks before the replica exits: the
// stop waits for the fast path's requests as it waits for net/http's, before the sinks' final
// flush (with the memory store an event they miss then is lost to them for good).
// Guards against: drain in server.go waiting only for net/http's requests (srv.Shutdown), not
// the fast path's handlers, before stopping the tasks and flushing the sinks.
func TestStopWaitsForATokenRequestOnTheFastPath(t *testing.T) {
	sink := &stopSlowSink{got: map[string]bool{}, delay: time.Millisecond}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	// The token handler's first reading of the clock once armed waits for release: the
	// request stays in flight, in the handler, while the replica stops.
	var armed, onFastPath atomic.Bool
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	now := func() time.Time {
		if armed.Load() && stackHolds("api.(*Worker).token") {
			once.Do(func() {
				onFastPath.Store(stackHolds("fastpath.(*conn).answerPost"))
				close(held)
				<-release
			})
		}
		return time.Now()
	}
	ts := startServer(t, serverOptions{now: now, extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: 10s}
audit:
  sinks:
    - name: siem
      webhook: {url: %q}
`, recv.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	c := dialServer(t, ts)
	body := `{}`
	armed.Store(true)
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		api.TokenPath, run.RunToken, len(body), body); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the token request never reached its handler")
	}
	if !onFastPath.Load() {
		t.Fatal("the token request was not read by the fast path")
	}
	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }()
	time.Sleep(300 * time.Millisecond) // the stop reaches its wait
	close(release)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "POST"})
	if err != nil {
		t.Fatalf("no answer to the token request in flight: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("token request in flight at the stop answered %d, want 200", resp.StatusCode)
	}
	<-stopped
	time.Sleep(100 * time.Millisecond) // deliveries under way end
	sink.mu.Lock()
	defer sink.mu.Unlock()
	issued := 0
	for _, e := range ts.chain(t) {
		if e.Action == "token.issue" {
			issued++
		}
		if !sink.got[e.ID] {
			t.Errorf("stopped without delivering event %s (%s, %s) to the sink", e.ID, e.Action, e.Outcome)
		}
	}
	if issued != 1 {
		t.Errorf("%d token.issue events in the chain, want 1", issued)
	}
}
