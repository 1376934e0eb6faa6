package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
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

// tokenHold holds a token request in its handler: once armed, the token handler's first
// reading of the clock (the server's now) waits for release.
type tokenHold struct {
	armed, onFastPath atomic.Bool
	once              sync.Once
	held, release     chan struct{}
}

func newTokenHold() *tokenHold {
	return &tokenHold{held: make(chan struct{}), release: make(chan struct{})}
}

// now is the server's clock, which holds the token handler once armed.
func (h *tokenHold) now() time.Time {
	if h.armed.Load() && stackHolds("api.(*Worker).token") {
		h.once.Do(func() {
			h.onFastPath.Store(stackHolds("fastpath.(*conn).answerService"))
			close(h.held)
			<-h.release
		})
	}
	return time.Now()
}

// send arms the hold and sends a token request of a new run on a raw connection to ts, head
// and body in one write, and returns that connection once the request is held in its
// handler, read by the fast path.
func (h *tokenHold) send(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	c := dialServer(t, ts)
	body := `{}`
	h.armed.Store(true)
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		api.TokenPath, run.RunToken, len(body), body); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the token request never reached its handler")
	}
	if !h.onFastPath.Load() {
		t.Fatal("the token request was not read by the fast path")
	}
	return c
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
	hold := newTokenHold()
	ts := startServer(t, serverOptions{now: hold.now, extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: 10s}
audit:
  sinks:
    - name: siem
      webhook: {url: %q}
`, recv.URL)})
	c := hold.send(t, ts)
	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }()
	time.Sleep(300 * time.Millisecond) // the stop reaches its wait
	close(hold.release)
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

// TestStopPastTimeoutCutsATokenRequestOnTheFastPath: when http.shutdown_timeout passes with a
// token request the fast path read still in its handler, its connection is cut, as net/http's
// requests' are (which ends their context), and the stop goes on.
// Guards against: drain in server.go closing only net/http's connections (srv.Close) at the
// timeout, leaving the fast path's open, and their requests' contexts live.
func TestStopPastTimeoutCutsATokenRequestOnTheFastPath(t *testing.T) {
	hold := newTokenHold()
	defer close(hold.release)
	ts := startServer(t, serverOptions{now: hold.now, extraYAML: "\nhttp: {shutdown_timeout: 300ms}\n"})
	c := hold.send(t, ts)
	go ts.stop()
	// Cut at the timeout, not at the end of the stop (a second for the last answers, then the
	// flush, then the fast path's own shutdown, a second more).
	if !closedWithin(c, 300*time.Millisecond+lastAnswers/2) {
		t.Error("the connection of a token request in flight stayed open past http.shutdown_timeout")
	}
}
