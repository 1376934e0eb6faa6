package fastpath

import (
	"testing"
	"time"
)

// TestCutBusyLeavesAHeadOnItsWay: CutBusy, at http.shutdown_timeout during a drain, cuts only
// the connections whose Service is answering; a new connection whose GET head is partly in
// gets its public document, as the drain promises, not a cut.
// Found by review: the test fails on the code before the fix.
// Guards against: listener.go:CutBusy closing every connection in stateActive, which a new
// connection is from its first byte.
func TestCutBusyLeavesAHeadOnItsWay(t *testing.T) {
	hs := start(t, Config{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	hs.fast.Drain()
	cl := hs.dial(t)
	cl.send("GET /doc HT")
	deadline := time.Now().Add(2 * time.Second)
	for {
		busy := false
		hs.fast.mu.Lock()
		for c := range hs.fast.conns {
			busy = busy || c.state.Load() == stateActive
		}
		hs.fast.mu.Unlock()
		if busy || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	hs.fast.CutBusy()
	cl.send("TP/1.1\r\nHost: h\r\n\r\n")
	_ = cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := cl.br.Peek(1); err != nil {
		t.Fatalf("GET of a public document, head on its way at CutBusy, got no answer: %v", err)
	}
}
