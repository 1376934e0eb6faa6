package fastpath

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestShutdownAnswersTheFirstRequestOfAnOldConnection pins that a connection whose
// first request is being answered is busy for Shutdown however long ago it was accepted: a
// connection that stayed silent past newIdleAfter and then sent a request still gets its
// answer when the stop begins while the answer is being made.
// Guards against: first request's stateNew->stateActive swap skipped in conn.go:serve
func TestShutdownAnswersTheFirstRequestOfAnOldConnection(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	waitTracked(t, hs.fast, 1)
	hs.fast.mu.Lock()
	for c := range hs.fast.conns {
		c.accepted = time.Now().Add(-time.Minute) // accepted long before its first byte
	}
	hs.fast.mu.Unlock()
	cl.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-hs.h.entered
	done := shutdownInBackground(t, hs, 5*time.Second)
	time.Sleep(5 * shutdownPoll) // Shutdown has looked for idle connections
	close(hs.h.slow)
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("answer %d from %q", status, path)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestHandedConnCloseWriteSendsFIN pins that CloseWrite on a handed-off TCP connection
// really shuts its writing side (the peer reads the end at once, while the connection is
// still open), as net/http relies on before it closes a connection after an error answer,
// and that it is a no-op on a connection that cannot half-close.
// Guards against: CloseWrite not passed on to the TCP connection in conn.go:handedConn.CloseWrite
func TestHandedConnCloseWriteSendsFIN(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	h := &handedConn{Conn: sc}
	if err := h.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := peer.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("peer read %d, %v after CloseWrite; want the end of the stream", n, err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if err := (&handedConn{Conn: a}).CloseWrite(); err != nil {
		t.Errorf("CloseWrite on a connection that cannot half-close: %v", err)
	}
}

// failingListener fails its first fails Accepts with a temporary error and tells calls
// when each Accept begins.
type failingListener struct {
	net.Listener
	fails int
	calls chan time.Time
}

func (f *failingListener) Accept() (net.Conn, error) {
	f.calls <- time.Now()
	if f.fails > 0 {
		f.fails--
		return nil, tempErr{}
	}
	return f.Listener.Accept()
}

// TestTemporaryAcceptErrorsBackOff pins that repeated temporary accept errors (too many
// open files) are retried after a growing pause, 5ms doubling, as http.Server does, not in a
// tight loop that spins a core and floods the log.
// Guards against: backoff floor of 5ms dropped in listener.go:acceptLoop
func TestTemporaryAcceptErrorsBackOff(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &failingListener{Listener: inner, fails: 4, calls: make(chan time.Time, 8)}
	l := Listen(fl, Config{Handler: docFast{}})
	defer l.Close()
	var first, last time.Time
	for i := range 5 {
		select {
		case at := <-fl.calls:
			if i == 0 {
				first = at
			}
			last = at
		case <-time.After(5 * time.Second):
			t.Fatalf("Accept called %d times, want 5", i)
		}
	}
	// Pauses of 5, 10, 20 and 40ms come between the five calls.
	if took := last.Sub(first); took < 70*time.Millisecond {
		t.Errorf("four temporary errors retried within %v, want at least 75ms of backoff", took)
	}
}
