package fastpath

import (
	"bufio"
	"context"
	"net/http"
)

// A request the fast path reads for its Service: a POST to one of Posts, its head parsed
// strictly by parse and a body of exactly its Content-Length that already came with it, or a
// GET of one of Gets, its head alone. The Service gets the http.Request net/http's server would
// give it for those bytes (newServiceRequest). A body still on its way, or one that would not
// fit the read buffer beside its head, leaves the request to net/http, which reads it.

// whole returns the head and body of the POST req whose head is head, when br holds them all,
// and false when its body is not all there yet or cannot fit in br.
func whole(br *bufio.Reader, head []byte, req *Request) ([]byte, bool) {
	n := len(head) + req.contentLength
	if n > br.Buffered() {
		return nil, false
	}
	b, err := br.Peek(n)
	return b, err == nil
}

// readService returns the http.Request of req, whose head and body are raw, with the
// connection's addresses and a context that ends when the answer is done (its cancel). Its
// body reads from body until the answer is done.
func (c *conn) readService(raw []byte, req *Request, body *serviceBody) (*http.Request, context.CancelFunc, error) {
	if c.base == nil {
		// As net/http's, the context holds the connection's local address.
		c.base = context.WithValue(context.Background(), http.LocalAddrContextKey, c.Conn.LocalAddr())
		c.remote = c.Conn.RemoteAddr().String()
	}
	ctx, cancel := context.WithCancel(c.base)
	r, err := newServiceRequest(ctx, raw, req, body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	r.RemoteAddr = c.remote
	return r, cancel, nil
}

// answerService answers req, whose head and body are raw, with the Service's answer
// appended to dst, and reports whether the connection ends after it; false, before the Service
// saw the request, leaves it to net/http. As net/http's, the write timeout runs from now, when
// the request was read, through the answer's writing.
func (c *conn) answerService(dst, raw []byte, req *Request) (answer []byte, closes, ok bool) {
	// A handler that keeps the body past its answer reads nothing more: the bytes are the
	// connection's next request's.
	body := new(serviceBody)
	defer body.Reset(nil)
	r, cancel, err := c.readService(raw, req, body)
	if err != nil {
		return dst, false, false
	}
	defer cancel()
	if hang := c.hangUpWatch(); hang != nil {
		hang.begin(cancel)
		defer hang.end()
	}
	if err := c.setWriteDeadline(); err != nil {
		return dst, false, false
	}
	// The body is kept apart until finish copies it after the header; its buffer is reused.
	bp := answers.Get().(*[]byte)
	w := &answerWriter{header: make(http.Header, 4), out: dst, body: (*bp)[:0]}
	c.serving.Store(true)
	defer c.serving.Store(false)
	c.l.cfg.Service.ServeHTTP(w, r)
	answer, closes = w.finish(c.l.closing())
	if cap(w.body) <= maxPooledAnswer {
		*bp = w.body[:0]
		answers.Put(bp)
	}
	return answer, closes, true
}

// hangUpWatch is the watch of c's client for hang-ups, made at the first request c reads for
// the Service; nil when c's socket cannot be watched.
func (c *conn) hangUpWatch() *hangUpWatch {
	if c.hang == nil {
		c.hang = newHangUpWatch(c.Conn)
	}
	return c.hang
}
