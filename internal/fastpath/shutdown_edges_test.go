package fastpath

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestShutdownWaitsForANewConnectionsFirstHead: a new connection that has sent part of its first
// request is busy; Shutdown lets it finish and answers it, as net/http would.
// Guards against: conn.go:90 `first := waitBoundsHead` -> `first := false` (Shutdown cuts the
// request)
func TestShutdownWaitsForANewConnectionsFirstHead(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send("GET /doc HTTP/1.1\r\n")
	waitTracked(t, hs.fast, 1)
	done := shutdownInBackground(t, hs, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	cl.send("Host: h\r\n\r\n")
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("answer %d from %q", status, path)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestShutdownAnswersARequestOnANewConnection: a connection accepted with nothing read yet is
// busy for newIdleAfter, as net/http counts its new connections: a request whose bytes arrive
// after the stop began is answered, not reset; one that sends nothing is closed after
// newIdleAfter.
func TestShutdownAnswersARequestOnANewConnection(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	silent := hs.dial(t)
	waitTracked(t, hs.fast, 2)
	done := shutdownInBackground(t, hs, 3*newIdleAfter)
	time.Sleep(5 * shutdownPoll) // Shutdown has looked for idle connections
	cl.send(get)
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("answer %d from %q", status, path)
	}
	if !silent.closed(2 * newIdleAfter) {
		t.Error("a connection that sent nothing was not closed")
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// waitTracked waits until l serves n connections.
func waitTracked(t *testing.T, l *Listener, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		got := len(l.conns)
		l.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener serves %d connections, want %d", got, n)
		}
	}
}

// TestConnectionsAcceptedAfterShutdownAreClosed: once Shutdown has begun, a connection the inner
// listener still accepts is closed unanswered.
// Guards against: listener.go:103 acceptLoop ignoring track's false (the connection is served)
// Guards against: listener.go:156 track not refusing while shutting down
func TestConnectionsAcceptedAfterShutdownAreClosed(t *testing.T) {
	hs := start(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.fast.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	cl := hs.dial(t)               // the inner listener is still open: only http.Server.Shutdown closes it
	_, _ = cl.c.Write([]byte(get)) // may fail: the connection is already closed
	_ = cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, err := cl.br.ReadByte()
	var ne net.Error
	switch {
	case err == nil:
		t.Fatalf("a connection accepted after Shutdown was answered (first byte %q)", b)
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("a connection accepted after Shutdown is still open")
	}
}

// TestHandOffAfterCloseClosesTheConnection: a connection that must go to net/http after the
// listener was closed is closed, not left hanging with a blocked goroutine.
// Guards against: listener.go:147 give without the `<-l.closed` case (blocks forever)
func TestHandOffAfterCloseClosesTheConnection(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, Config{Handler: docFast{}})
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		n := len(l.conns)
		l.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("connection not accepted")
		}
	}
	_ = l.Close()
	if _, err := c.Write([]byte("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [1]byte
	_, err = c.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		t.Fatal("connection handed off after Close was answered, want it closed")
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("connection handed off after Close still open")
	}
}

// tempErr is an accept error that passes, as EMFILE does.
type tempErr struct{}

func (tempErr) Error() string   { return "too many open files" }
func (tempErr) Temporary() bool { return true }
func (tempErr) Timeout() bool   { return false }

// flakyListener fails its first Accept with a temporary error.
type flakyListener struct {
	net.Listener
	failed bool
}

func (f *flakyListener) Accept() (net.Conn, error) {
	if !f.failed {
		f.failed = true
		return nil, tempErr{}
	}
	return f.Listener.Accept()
}

// TestTemporaryAcceptErrorIsRetried: a temporary accept error (too many open files) does not stop
// the listener; the next connection is still served.
// Guards against: listener.go:92 treating a temporary accept error as final
func TestTemporaryAcceptErrorIsRetried(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(&flakyListener{Listener: inner}, Config{Handler: docFast{}})
	defer l.Close()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("GET /doc HTTP/1.1\r\nHost: h\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 15)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "HTTP/1.1 200 OK" {
		t.Fatalf("read %q, %v; want an answer after a temporary accept error", b, err)
	}
}

// gate holds every request at its handler until released, and says when one got there.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1), release: make(chan struct{})} }

// wait holds the request until the gate is released.
func (g *gate) wait() {
	g.entered <- struct{}{}
	<-g.release
}

// gatedFast is docFast behind a gate.
type gatedFast struct{ *gate }

func (g gatedFast) Answer(dst []byte, req *Request) ([]byte, bool) {
	if string(req.Path) != "/doc" {
		return dst, false
	}
	g.wait()
	return docFast{}.Answer(dst, req)
}

// TestAnswerInFlightAtShutdownSaysTheConnectionCloses: an answer written after the stop began
// says "Connection: close" before the connection closes, byte for byte as net/http says it, so
// that a client knows not to send another request on it.
// Guards against: conn.go answering in flight during Shutdown without "Connection: close"
func TestAnswerInFlightAtShutdownSaysTheConnectionCloses(t *testing.T) {
	answers := map[string]string{}
	for _, side := range []string{"net/http alone", "behind the fast path"} {
		g := newGate()
		inner, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.wait()
			docHandler(w, r)
		})}
		shutting := make(chan struct{})
		srv.RegisterOnShutdown(func() { close(shutting) }) // called once Shutdown has begun
		var fast *Listener
		ln := inner
		if side == "behind the fast path" {
			fast = Listen(inner, Config{Handler: gatedFast{g}})
			ln = fast
		}
		go func() { _ = srv.Serve(ln) }()
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /doc HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		<-g.entered
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done := make(chan error, 2)
		go func() { done <- srv.Shutdown(ctx) }()
		<-shutting
		if fast != nil {
			go func() { done <- fast.Shutdown(ctx) }()
			for !fast.shutting.Load() {
				time.Sleep(time.Millisecond)
			}
		} else {
			done <- nil
		}
		close(g.release)
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%s: read: %v", side, err)
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("%s: Shutdown: %v", side, err)
			}
		}
		cancel()
		_ = c.Close()
		answers[side] = dateHeader.ReplaceAllString(string(out), "Date: *\r\n")
	}
	want := answers["net/http alone"]
	if !strings.Contains(want, "\r\nConnection: close\r\n") {
		t.Fatalf("net/http alone answered %q, without the header this test expects", want)
	}
	if got := answers["behind the fast path"]; got != want {
		t.Errorf("behind the fast path: %q\nnet/http alone:       %q", got, want)
	}
}

// shutdownInBackground starts hs.fast.Shutdown with within to finish, and returns once it has
// begun (the listener is shutting), with the channel its result arrives on.
func shutdownInBackground(t *testing.T, hs *harness, within time.Duration) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- hs.fast.Shutdown(ctx) }()
	for !hs.fast.shutting.Load() {
		time.Sleep(time.Millisecond)
	}
	return done
}
