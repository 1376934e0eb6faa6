package fastpath

import (
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestBareLFBlankLineIsHandedOverAtOnce: a head whose blank line is a bare LF goes to net/http as
// soon as it arrives, not after the client gives up or the head timeout.
// Guards against: request.go:31 headEnd without the bare-LF blank line case (the fast path waits
// for more)
func TestBareLFBlankLineIsHandedOverAtOnce(t *testing.T) {
	hs := start(t, Config{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second})
	cl := hs.dial(t)
	_ = cl.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	cl.send("GET /doc HTTP/1.1\r\nHost: h\r\n\n")
	if path, status, body := cl.read("GET"); path != "std" || status != 200 || body != "GET /doc " {
		t.Fatalf("answer %d from %q: %q; want 200 from net/http", status, path, body)
	}
}

// TestLaterHeadIsBoundedByReadHeaderTimeout: on a kept-alive connection, a request head that stops
// midway is closed after ReadHeaderTimeout, not left open until IdleTimeout.
// Guards against: conn.go:83 `if waitBoundsHead` -> `if true` (later head bounded by the idle
// deadline)
// Guards against: conn.go:164 `if bound == headUnbounded` -> `if false` (readHead never bounds a
// later head)
func TestLaterHeadIsBoundedByReadHeaderTimeout(t *testing.T) {
	hs := start(t, Config{ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 20 * time.Second})
	cl := hs.dial(t)
	cl.send(get)
	if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("first answer %d from %q", status, path)
	}
	cl.send("GET /doc HTTP/1.1\r\nHo")
	if !cl.closed(5 * time.Second) {
		t.Fatal("a half-sent later head kept the connection open past ReadHeaderTimeout (100ms), towards IdleTimeout (20s)")
	}
}

// bigAnswer answers every request with a body far larger than loopback socket buffers.
type bigAnswer struct{ body []byte }

func (b bigAnswer) Answer(dst []byte, req *Request) ([]byte, bool) {
	dst = AppendStatusLine(dst, http.StatusOK)
	dst = append(dst, "Content-Length: 33554432\r\n\r\n"...)
	return append(dst, b.body...), true
}

// TestWriteTimeoutFreesAConnectionThatDoesNotRead: a client that never reads its answer does not
// hold a fast-path connection (and its goroutine and buffer) past WriteTimeout.
// Guards against: conn.go:179 write ignoring Config.WriteTimeout (Write blocks forever)
func TestWriteTimeoutFreesAConnectionThatDoesNotRead(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, Config{Handler: bigAnswer{body: bytes.Repeat([]byte("x"), 32<<20)}, WriteTimeout: 100 * time.Millisecond})
	defer l.Close()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A small receive buffer keeps the answer from vanishing into the sockets' buffers, which
	// can grow to tens of MiB on loopback.
	if err := c.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(get)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		n := len(l.conns)
		l.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("connection still served 3s after its answer stalled, WriteTimeout 100ms")
		}
	}
}

// TestHandedConnCapsOnlyTheFirstReadDeadline: net/http's first read deadline on a handed connection
// is capped at the fast path's head bound (even "no deadline"), later ones are not.
// Guards against: conn.go:216 `t.IsZero() ||` dropped (a zero first deadline lifts the head bound)
// Guards against: conn.go:219 headBy never cleared (every later net/http deadline capped at the old
// bound)
func TestHandedConnCapsOnlyTheFirstReadDeadline(t *testing.T) {
	hb := time.Now().Add(time.Second)
	tests := []struct {
		name  string
		calls []time.Time
		want  []time.Time
	}{
		{"zero first deadline", []time.Time{{}}, []time.Time{hb}},
		{"later first deadline", []time.Time{hb.Add(time.Hour)}, []time.Time{hb}},
		{"earlier first deadline", []time.Time{hb.Add(-time.Millisecond)}, []time.Time{hb.Add(-time.Millisecond)}},
		{"second deadline is net/http's own", []time.Time{hb, hb.Add(time.Hour), {}}, []time.Time{hb, hb.Add(time.Hour), {}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &deadlineConn{}
			h := &handedConn{Conn: fc, headBy: hb}
			for _, d := range tc.calls {
				_ = h.SetReadDeadline(d)
			}
			if len(fc.got) != len(tc.want) {
				t.Fatalf("got %d deadlines, want %d", len(fc.got), len(tc.want))
			}
			for i := range tc.want {
				if !fc.got[i].Equal(tc.want[i]) {
					t.Errorf("deadline %d = %v, want %v", i, fc.got[i], tc.want[i])
				}
			}
		})
	}
}

// deadlineConn records the read deadlines set on it.
type deadlineConn struct {
	net.Conn
	got []time.Time
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error { d.got = append(d.got, t); return nil }
