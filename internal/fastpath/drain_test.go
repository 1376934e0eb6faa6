package fastpath

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestDrainKeepsAcceptingWithLastAnswers: once Drain is called, idle connections are closed, a
// new connection is still accepted and answered, its answer saying "Connection: close" and its
// connection closed after it, and a request the fast path does not take still goes to net/http.
func TestDrainKeepsAcceptingWithLastAnswers(t *testing.T) {
	hs := start(t, Config{})
	idle := hs.dial(t)
	idle.send(get)
	if path, status, _ := idle.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("answer %d from %q before the drain", status, path)
	}
	waitIdle(t, hs.fast)
	hs.fast.Drain()
	if !idle.closed(2 * time.Second) {
		t.Error("an idle connection stayed open after Drain")
	}
	for _, tc := range []struct{ raw, path string }{
		{get, "fast"},
		{"GET /other HTTP/1.1\r\nHost: h\r\n\r\n", "std"},
	} {
		cl := hs.dial(t)
		cl.send(tc.raw)
		resp, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%s during the drain: %v", tc.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if got := resp.Header.Get("X-Path"); got != tc.path || resp.StatusCode != 200 {
			t.Errorf("answer %d from %q during the drain, want 200 from %q", resp.StatusCode, got, tc.path)
		}
		if tc.path == "fast" && (!resp.Close || !cl.closed(2*time.Second)) {
			t.Errorf("a fast-path answer during the drain: close %v; want Connection: close and the connection closed", resp.Close)
		}
	}
}

// waitIdle waits until every connection l serves waits for its next request.
func waitIdle(t *testing.T, l *Listener) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		busy := 0
		for c := range l.conns {
			if c.state.Load() != stateIdle {
				busy++
			}
		}
		l.mu.Unlock()
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections are still busy", busy)
		}
	}
}
