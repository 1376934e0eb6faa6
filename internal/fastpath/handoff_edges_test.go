package fastpath

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHandedConnReadsTheFastPathsBytesInSmallPieces: a handed-off connection returns
// every byte the fast path had read, in order, however small the reader's buffer, and only
// then the connection's own bytes.
// Guards against: handedConn.Read dropping the bytes that did not fit in p
func TestHandedConnReadsTheFastPathsBytesInSmallPieces(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	h := &handedConn{Conn: a, rest: []byte("GET /doc HTTP/1.1\r\n")}
	go func() {
		_, _ = b.Write([]byte("Host: h\r\n\r\n"))
		_ = b.Close()
	}()
	var got []byte
	p := make([]byte, 3)
	for {
		n, err := h.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := "GET /doc HTTP/1.1\r\nHost: h\r\n\r\n"; string(got) != want {
		t.Errorf("read %q, want %q", got, want)
	}
}

// brokenListener is a listener whose Accept fails for good with its err.
type brokenListener struct {
	net.Listener
	err error
}

func (p brokenListener) Accept() (net.Conn, error) { return nil, p.err }

// TestAcceptReturnsTheInnerListenersFinalError: when the inner listener fails for good
// with an error other than "closed", Accept returns that error, so that http.Server.Serve
// returns (and the server logs) the real cause; a closed inner listener gives net.ErrClosed.
// Guards against: Accept returning net.ErrClosed whatever the cause
// Guards against: stop keeping the inner listener's wrapped *net.OpError instead of net.ErrClosed
func TestAcceptReturnsTheInnerListenersFinalError(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	cause := errors.New("accept: the socket went away")
	l := Listen(brokenListener{Listener: inner, err: cause}, Config{Handler: docFast{}})
	if _, err := l.Accept(); err != cause {
		t.Errorf("Accept: %v, want %v", err, cause)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l2 := Listen(closed, Config{Handler: docFast{}})
	_ = closed.Close()
	if _, err := l2.Accept(); err != net.ErrClosed {
		t.Errorf("Accept after the inner listener closed: %v, want net.ErrClosed", err)
	}
}

// scriptConn is a connection whose reads return reads in turn; before read hookAt it
// runs hook (Shutdown's closing of idle connections). Close makes later writes fail; the second
// Close (serve's own, as it ends) closes ended.
type scriptConn struct {
	net.Conn
	mu     sync.Mutex
	reads  []string
	n      int
	hookAt int
	hook   func()
	closes atomic.Int32
	ended  chan struct{}
}

func (p *scriptConn) Read(b []byte) (int, error) {
	p.mu.Lock()
	n := p.n
	p.n++
	p.mu.Unlock()
	if n == p.hookAt {
		p.hook()
	}
	if n >= len(p.reads) {
		select {} // the client sends nothing more; the test ends with this goroutine parked
	}
	return copy(b, p.reads[n]), nil
}

func (p *scriptConn) Write(b []byte) (int, error) {
	if p.closes.Load() > 0 {
		return 0, net.ErrClosed
	}
	return len(b), nil
}

func (p *scriptConn) Close() error {
	if p.closes.Add(1) == 2 {
		close(p.ended)
	}
	return nil
}

func (p *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (p *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (p *scriptConn) SetDeadline(time.Time) error      { return nil }

// oneConnListener is a listener that accepts conn once, when released, and then nothing.
type oneConnListener struct {
	net.Listener
	conn    net.Conn
	release chan struct{}
	done    chan struct{}
}

func (p *oneConnListener) Accept() (net.Conn, error) {
	if p.release != nil {
		<-p.release
		p.release = nil
		return p.conn, nil
	}
	<-p.done
	return nil, net.ErrClosed
}

func (p *oneConnListener) Close() error { close(p.done); return nil }

// countingHandler answers every request and counts them.
type countingHandler struct{ n atomic.Int32 }

func (p *countingHandler) Answer(dst []byte, req *Request) ([]byte, bool) {
	p.n.Add(1)
	return docFast{}.Answer(dst, req)
}

// TestLaterHeadCompletedAfterShutdownClosedItIsNotAnswered: a kept-alive connection is
// idle until its next head is whole; when Shutdown closes it while that head is arriving, the
// request is not passed to the Handler (nor answered), as net/http drops a connection it
// closed as idle.
// Guards against: serve ignoring a failed CompareAndSwap(stateIdle, stateActive) for a later head
func TestLaterHeadCompletedAfterShutdownClosedItIsNotAnswered(t *testing.T) {
	const first = "GET /doc HTTP/1.1\r\nHost: h\r\n\r\n"
	sc := &scriptConn{reads: []string{first + "GET ", "/doc HTTP/1.1\r\nHost: h\r\n\r\n"},
		hookAt: 1, ended: make(chan struct{})}
	inner := &oneConnListener{conn: sc, release: make(chan struct{}), done: make(chan struct{})}
	h := &countingHandler{}
	l := Listen(inner, Config{Handler: h})
	defer l.Close()
	closedIdle := make(chan int, 1)
	sc.hook = func() { closedIdle <- l.closeIdle() }
	close(inner.release)
	awaitClosedAsIdle(t, closedIdle, sc)
	if n := h.n.Load(); n != 1 {
		t.Errorf("the Handler answered %d requests, want 1 (the second came after the close)", n)
	}
}

// TestNewConnectionClosedAsIdleIsNotAnswered: a new connection that Shutdown closed for
// having sent nothing for newIdleAfter is not answered, even when its first bytes were already
// on their way: the request is not passed to the Handler.
// Guards against: serve ignoring a failed CompareAndSwap(stateNew, stateActive) for a first head
func TestNewConnectionClosedAsIdleIsNotAnswered(t *testing.T) {
	sc := &scriptConn{reads: []string{"GET /doc HTTP/1.1\r\nHost: h\r\n\r\n"},
		ended: make(chan struct{})}
	inner := &oneConnListener{conn: sc, release: make(chan struct{}), done: make(chan struct{})}
	h := &countingHandler{}
	l := Listen(inner, Config{Handler: h})
	defer l.Close()
	closedIdle := make(chan int, 1)
	sc.hook = func() {
		l.mu.Lock()
		for c := range l.conns {
			c.accepted = time.Now().Add(-2 * newIdleAfter) // silent for longer than newIdleAfter
		}
		l.mu.Unlock()
		closedIdle <- l.closeIdle()
	}
	close(inner.release)
	awaitClosedAsIdle(t, closedIdle, sc)
	if n := h.n.Load(); n != 0 {
		t.Errorf("the Handler answered %d requests on a connection Shutdown closed, want 0", n)
	}
}

// awaitClosedAsIdle waits for the closeIdle that sc's hook ran to report the connection closed
// (none left open), and then for serve to end on it, so that the Handler's count is final.
func awaitClosedAsIdle(t *testing.T, closedIdle <-chan int, sc *scriptConn) {
	t.Helper()
	select {
	case left := <-closedIdle:
		if left != 0 {
			t.Fatalf("the connection was not closed as idle while its head arrived (%d left)", left)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the connection's head was never read")
	}
	select {
	case <-sc.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not end after its connection was closed")
	}
}
