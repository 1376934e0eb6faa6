package fastpath

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestLaterRequestInFlightAtShutdownIsAnswered: a kept-alive connection's second request,
// in the handler when Shutdown begins, is busy, not idle: Shutdown waits for its answer, which
// says Connection: close, instead of closing the connection under it.
// Guards against: conn.go:serve dropping the idle->active CompareAndSwap of a later request
func TestLaterRequestInFlightAtShutdownIsAnswered(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send(get)
	cl.read("GET")
	cl.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-hs.h.entered
	done := shutdownInBackground(t, hs, 5*time.Second)
	time.Sleep(3 * shutdownPoll)
	close(hs.h.slow)
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("the later request in flight at Shutdown got no answer: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("answer %d, Connection: close %v; want 200 saying the connection closes", resp.StatusCode, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestNoAnswerAfterTheClosingAnswer: once an answer said Connection: close, a request pipelined
// behind it is not answered; the connection closes.
// Guards against: conn.go:serve returning only on a write error (not after an answer written while
// closing)
func TestNoAnswerAfterTheClosingAnswer(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n" + get)
	<-hs.h.entered
	done := shutdownInBackground(t, hs, 5*time.Second)
	close(hs.h.slow)
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("first answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if !resp.Close {
		t.Fatal("the answer written during Shutdown does not say Connection: close")
	}
	if !cl.closed(2 * time.Second) {
		t.Error("a request pipelined behind the closing answer was answered (or the connection stayed open)")
	}
	<-done
}

// TestKeptAliveConnectionWaitsIdleTimeout: between requests a kept-alive connection waits
// up to IdleTimeout, not ReadHeaderTimeout.
// Guards against: conn.go:serve waiting headTimeout instead of idleTimeout for a later request
func TestKeptAliveConnectionWaitsIdleTimeout(t *testing.T) {
	hs := start(t, Config{ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	cl.send(get)
	cl.read("GET")
	time.Sleep(300 * time.Millisecond)
	cl.send(get)
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("second request after 300ms idle (IdleTimeout 5s, ReadHeaderTimeout 100ms): %v", err)
	}
	_ = resp.Body.Close()
}

// TestHeadFinishedByOneByteIsAnswered: a head whose last byte arrives on its own is
// answered at once, without waiting for any further byte.
// Guards against: conn.go:readHead peeking two more bytes instead of one
func TestHeadFinishedByOneByteIsAnswered(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send(get[:len(get)-1])
	time.Sleep(50 * time.Millisecond)
	cl.send(get[len(get)-1:])
	_ = cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("answer %d from %q", status, path)
	}
}

// TestHandedOffBytesSurviveBufferReuse: the bytes a handed-off connection returns first
// are the ones its client sent, even after the fast path's read buffer served another
// connection: nothing of one connection's bytes reaches another's.
// Guards against: conn.go:handOff keeping the pooled buffer's bytes (no copy)
func TestHandedOffBytesSurviveBufferReuse(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, Config{Handler: &fakeHandler{}})
	defer l.Close()
	for i := range 20 {
		want := "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 40\r\n\r\n" + strings.Repeat("A", 40)
		a := dialRaw(t, inner.Addr().String(), want)
		hc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // the fast path returns its buffer
		b := dialRaw(t, inner.Addr().String(), "GET /doc HTTP/1.1\r\nHost: h\r\nX-Pad: "+strings.Repeat("B", 100)+"\r\n\r\n")
		if _, err := http.ReadResponse(bufio.NewReader(b), nil); err != nil {
			t.Fatalf("round %d: fast answer: %v", i, err)
		}
		got := make([]byte, len(want))
		_ = hc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(hc, got); err != nil {
			t.Fatalf("round %d: read handed-off bytes: %v", i, err)
		}
		if string(got) != want {
			t.Fatalf("round %d: handed-off connection returned %q, want %q", i, got, want)
		}
		_ = hc.Close()
		_ = a.Close()
		_ = b.Close()
	}
}

// dialRaw connects to addr and sends raw.
func dialRaw(t *testing.T, addr, raw string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOneByteThenEndGetsNetHTTPs400: a connection that sends a single byte and ends its
// side is handed to net/http with that byte, which answers 400.
// Guards against: conn.go:handedConn.Read skipping a last single byte of the fast path's bytes
func TestOneByteThenEndGetsNetHTTPs400(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send("G")
	if err := cl.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("no answer to a one-byte request: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
}

// TestLaterHeadHandedOffKeepsItsBound: a kept-alive connection's next head, found
// incomplete by the fast path and then handed to net/http (too large for the fast path's
// buffer), is bounded by ReadHeaderTimeout from when the fast path began waiting for it, not
// again from the hand-off.
// Guards against: conn.go:readHead not recording the head's deadline (headBy) for a later head
func TestLaterHeadHandedOffKeepsItsBound(t *testing.T) {
	const bound = 400 * time.Millisecond
	hs := start(t, Config{ReadHeaderTimeout: bound, IdleTimeout: time.Minute})
	cl := hs.dial(t)
	cl.send(get)
	cl.read("GET")
	cl.send("GET /doc HTTP/1.1\r\n")
	time.Sleep(bound * 6 / 10)
	cl.send("X-Pad: " + strings.Repeat("p", 2*bufferSize)) // handed off, head unfinished
	time.Sleep(bound * 6 / 10)
	cl.send("\r\nHost: h\r\n\r\n") // 1.2 bounds after the head began
	if _, err := http.ReadResponse(cl.br, &http.Request{Method: "GET"}); err == nil {
		t.Error("a head finished 1.2 ReadHeaderTimeouts after it began was answered")
	}
}
