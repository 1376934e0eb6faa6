package fastpath

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The states of a fast-path connection: waiting for a later request, reading or answering one,
// closed by Shutdown, and accepted with no byte read yet.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
	stateNew
)

// newIdleAfter is how long a connection with no byte read yet counts as busy for Shutdown, as
// net/http counts its new connections: a request in flight as the stop begins is answered.
const newIdleAfter = 5 * time.Second

// bufferSize is a connection's read buffer: a request head that does not fit in it goes to
// net/http, which reads heads up to http.Server's MaxHeaderBytes.
const bufferSize = 2048

// maxPooledAnswer is the largest answer buffer kept for reuse.
const maxPooledAnswer = 64 << 10

// readers and answers are the connections' read buffers and answer buffers, reused.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufferSize) }}
	answers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
)

// conn is one connection the fast path serves until it hands it to net/http or closes it.
type conn struct {
	net.Conn
	l     *Listener
	state atomic.Int32
	// accepted is when the connection was accepted (see newIdleAfter).
	accepted time.Time
	// headBy is the deadline the fast path set on the current request's head, zero when it set
	// none; a head handed to net/http keeps it.
	headBy time.Time
	// base is the context of the requests the fast path reads for its Service, and remote the
	// client's address, set at the first of them.
	base   context.Context
	remote string
	// hang watches the client during the Service's answers (see hangUpWatch).
	hang *hangUpWatch
	// serving is set while the Service answers a request of c's.
	serving atomic.Bool
}

// serve answers c's requests until one is not for the fast path, which hands c to net/http,
// or until c fails, times out or the listener shuts down, which closes it. A panic of the
// Handler closes c and is logged, as net/http does with a handler's.
func (c *conn) serve() {
	br := readers.Get().(*bufio.Reader)
	br.Reset(c.Conn)
	handOff := false
	defer func() {
		if v := recover(); v != nil {
			c.l.cfg.Logger.Error("fast path: panic answering a request; connection closed", "remote", c.Conn.RemoteAddr().String(), "panic", v)
			handOff = false
		}
		c.l.untrack(c)
		if handOff {
			c.handOff(br)
		} else {
			_ = c.Conn.Close()
		}
		br.Reset(nil)
		readers.Put(br)
	}()
	cfg := &c.l.cfg
	// A new connection's first head is bounded from its start, as net/http bounds it; a later
	// one waits within the idle bound and is bounded from when it is found incomplete. As in
	// net/http, a later request begins only once 4 bytes came: fewer, then the end, close.
	wait, waitBoundsHead, begin := cfg.headTimeout(), true, 1
	var req Request
	for {
		bound := headUnbounded
		c.headBy = time.Time{}
		if br.Buffered() < begin {
			by, ok := c.readDeadline(wait)
			if !ok {
				return
			}
			if _, err := br.Peek(begin); err != nil {
				return
			}
			if waitBoundsHead {
				bound, c.headBy = headBounded, by
			}
		}
		// A new connection is busy from its acceptance (for newIdleAfter while it sends nothing)
		// and from its first byte. A kept-alive one stays idle until its next head is whole, as
		// net/http counts it: Shutdown closes it midway through a head instead of waiting out
		// the head timeout, and that request was never whole.
		first := waitBoundsHead
		if first && !c.state.CompareAndSwap(stateNew, stateActive) {
			return
		}
		head, ours, err := c.readHead(br, bound)
		if err != nil {
			// A head cut short by the client's end goes to net/http, which answers it 400.
			handOff = errors.Is(err, io.EOF)
			return
		}
		if !first && !c.state.CompareAndSwap(stateIdle, stateActive) {
			return
		}
		if !ours || !parse(head, &req, cfg.Posts) {
			handOff = true
			return
		}
		bp := answers.Get().(*[]byte)
		var out []byte
		var ok, closing bool
		used := len(head)
		if req.post {
			// raw points into br, which nothing reads until the answer is written.
			var raw []byte
			if raw, ok = whole(br, head, &req); ok {
				out, closing, ok = c.answerService((*bp)[:0], raw, &req)
				used = len(raw)
			}
		} else if out, ok = cfg.Handler.Answer((*bp)[:0], &req); ok {
			// An answer written once the stop or the drain began is the connection's last, and
			// says so as net/http's does. One that began before it leaves the connection idle,
			// for Shutdown.
			if closing = c.l.closing(); closing {
				out = sayClose(out)
			}
			err = c.setWriteDeadline()
		} else if !req.Head && slices.Contains(cfg.Gets, string(req.Path)) {
			out, closing, ok = c.answerService((*bp)[:0], head, &req)
		}
		if !ok {
			answers.Put(bp)
			handOff = true
			return
		}
		_, _ = br.Discard(used)
		if err == nil {
			_, err = c.Conn.Write(out)
		}
		if cap(out) <= maxPooledAnswer {
			*bp = out[:0]
			answers.Put(bp)
		}
		if err != nil || closing {
			return
		}
		c.state.Store(stateIdle)
		wait, waitBoundsHead, begin = cfg.idleTimeout(), false, 4
	}
}

// connectionClose is the header line net/http adds, last, to an answer after which it closes
// the connection.
const connectionClose = "Connection: close\r\n"

// sayClose adds connectionClose to the answer out, after its last header line.
func sayClose(out []byte) []byte {
	i := bytes.Index(out, []byte("\r\n\r\n"))
	if i < 0 {
		return out
	}
	return slices.Insert(out, i+2, []byte(connectionClose)...)
}

// readDeadline sets the read deadline d from now (none when d is zero) and returns it; false
// when it fails.
func (c *conn) readDeadline(d time.Duration) (time.Time, bool) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	return t, c.Conn.SetReadDeadline(t) == nil
}

// headBound says whether the read deadline already bounds the head being read.
type headBound int

const (
	headUnbounded headBound = iota
	headBounded
)

// readHead reads until br holds a whole request head and returns it. Unless bound is
// headBounded, the bound on reading it starts when it is found incomplete. ours is false, and
// the request net/http's, as soon as its request line is one the fast path does not answer, or
// when the head does not fit in br.
func (c *conn) readHead(br *bufio.Reader, bound headBound) (head []byte, ours bool, err error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		if n := headEnd(buf); n >= 0 {
			return buf[:n], true, nil
		}
		if bytes.IndexByte(buf, '\n') >= 0 {
			if line, _, ok := cutLine(buf); !ok || !parseRequestLine(line, &Request{}, c.l.cfg.Posts) {
				return nil, false, nil
			}
		}
		if len(buf) == br.Size() {
			return nil, false, nil
		}
		if bound == headUnbounded {
			by, ok := c.readDeadline(c.l.cfg.headTimeout())
			if !ok {
				return nil, true, net.ErrClosed
			}
			c.headBy, bound = by, headBounded
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, true, err
		}
	}
}

// setWriteDeadline bounds the writing of an answer by the write timeout from now.
func (c *conn) setWriteDeadline() error {
	if d := c.l.cfg.WriteTimeout; d > 0 {
		return c.Conn.SetWriteDeadline(time.Now().Add(d))
	}
	return nil
}

// handOff gives c to net/http with the bytes br read but the fast path did not answer, and
// with no deadlines: net/http sets its own, the head's no later than the fast path's.
func (c *conn) handOff(br *bufio.Reader) {
	var rest []byte
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		rest = bytes.Clone(b)
	}
	if err := c.Conn.SetDeadline(time.Time{}); err != nil {
		_ = c.Conn.Close()
		return
	}
	h := &handedConn{Conn: c.Conn, rest: rest, headBy: c.headBy}
	if cfg := &c.l.cfg; !c.headBy.IsZero() && cfg.ReadTimeout > 0 {
		// The request began when its head's bound began: so does its whole-request bound.
		h.readBy = c.headBy.Add(cfg.ReadTimeout - cfg.headTimeout())
	}
	c.l.give(h)
}

// handedConn is a connection handed to net/http: its reads return first the bytes the fast
// path had read, and the first two read deadlines net/http sets, its bound on the head it reads
// first and then its bound on that whole request, are no later than those bounds counted from
// when the request began on the fast path, so that a head sent slowly gets read_header_timeout
// once, and its request read_timeout once, not once on each side of the hand-off.
type handedConn struct {
	net.Conn
	rest   []byte
	headBy time.Time
	// readBy caps the second read deadline net/http sets (after a head it read whole, always);
	// zero caps nothing.
	readBy time.Time
}

// SetReadDeadline sets the read deadline, the first one no later than headBy and the second
// no later than readBy.
func (h *handedConn) SetReadDeadline(t time.Time) error {
	if !h.headBy.IsZero() {
		if t.IsZero() || t.After(h.headBy) {
			t = h.headBy
		}
		h.headBy, h.readBy = h.readBy, time.Time{}
	}
	return h.Conn.SetReadDeadline(t)
}

// Read returns the bytes the fast path had read, then the connection's.
func (h *handedConn) Read(p []byte) (int, error) {
	if len(h.rest) > 0 {
		n := copy(p, h.rest)
		h.rest = h.rest[n:]
		if len(h.rest) == 0 {
			h.rest = nil
		}
		return n, nil
	}
	return h.Conn.Read(p)
}

// CloseWrite shuts down the writing side when the connection can, as net/http expects of a
// TCP connection before it closes one after an error answer.
func (h *handedConn) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
