package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/keys"
)

// HTTPRequest is the request an HTTP worker sends, again and again.
type HTTPRequest struct {
	Method string
	URL    string
	// Header is sent with every request (Authorization, Content-Type).
	Header http.Header
	// Body is sent with every request; nil for none.
	Body []byte
	// Check judges an answer; nil accepts any 200.
	Check func(status int, body []byte) error
}

// requestTimeout bounds one request of the load driver.
const requestTimeout = 30 * time.Second

// readBufferSize is the size of a worker's read buffer; a status or header line must fit in it.
const readBufferSize = 16 << 10

// maxMeasuredAnswer caps the Content-Length a worker accepts, so a wrong length cannot make it
// allocate without bound.
const maxMeasuredAnswer = 64 << 20

// errAnswer marks a malformed answer from the server.
var errAnswer = errors.New("malformed HTTP answer")

// httpWorker sends one HTTPRequest over its own HTTP/1.1 keep-alive connection. The request's
// bytes are built once and written with one Write; the answer is parsed in place (answer, the
// event loop's parser) without the allocations of net/http, so the driver costs little CPU next to the server it
// shares the cores with.
type httpWorker struct {
	req   HTTPRequest
	check func(int, []byte) error
	// timeout bounds each dial and each exchange.
	timeout time.Duration
	// addr is host:port to dial; tlsName is the server name when the URL is https, else "".
	addr, tlsName string
	// wire is the whole request as sent; setupErr is why it could not be built.
	wire     []byte
	setupErr error
	// ans parses the answer in flight, by the rules the event loop uses too.
	ans answer
	// mu guards conn against interrupt, which runs in another goroutine when a context ends.
	mu   sync.Mutex
	conn net.Conn
	// ctx is the context watched by stop's AfterFunc.
	ctx  context.Context
	stop func() bool
}

// NewHTTPWorkers returns n workers sending req, each over its own keep-alive connection; they
// drive an HTTPLoad where the event loop does not apply (https, systems without epoll).
func NewHTTPWorkers(n int, req HTTPRequest) []Worker {
	return newHTTPWorkers(loadConfig{clients: n, req: req, timeout: requestTimeout})
}

// newHTTPWorkers returns cfg.clients workers sending cfg.req.
func newHTTPWorkers(cfg loadConfig) []Worker {
	req := cfg.req
	ws := make([]Worker, cfg.clients)
	for i := range ws {
		w := &httpWorker{req: req, check: req.Check, timeout: cfg.timeout}
		w.ans.reset()
		if w.check == nil {
			w.check = expectOK
		}
		w.addr, w.tlsName, w.wire, w.setupErr = buildRequest(req)
		ws[i] = w
	}
	return ws
}

// CloseWorkers closes the connections of workers made by NewHTTPWorkers.
func CloseWorkers(ws []Worker) {
	for _, w := range ws {
		if hw, ok := w.(*httpWorker); ok {
			hw.close()
			if hw.stop != nil {
				hw.stop()
				hw.stop, hw.ctx = nil, nil
			}
		}
	}
}

// buildRequest returns the address to dial, the TLS server name (https only) and the bytes of
// req as sent on the wire.
func buildRequest(req HTTPRequest) (addr, tlsName string, wire []byte, err error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return "", "", nil, fmt.Errorf("request URL: %w", err)
	}
	port := "80"
	switch u.Scheme {
	case "http":
	case "https":
		port, tlsName = "443", u.Hostname()
	default:
		return "", "", nil, fmt.Errorf("request URL %q: scheme must be http or https", req.URL)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: broker-bench\r\n", req.Method, u.RequestURI(), u.Host)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range req.Header[k] {
			if strings.ContainsAny(k, "\r\n: ") || strings.ContainsAny(v, "\r\n") {
				return "", "", nil, fmt.Errorf("request header %q: name or value holds a line break or separator", k)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if req.Body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(req.Body))
	}
	b.WriteString("\r\n")
	b.Write(req.Body)
	return addr, tlsName, b.Bytes(), nil
}

// Do sends the request once and checks the answer.
func (w *httpWorker) Do(ctx context.Context) error {
	if w.setupErr != nil {
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, w.setupErr)
	}
	w.watch(ctx)
	status, keep, err := w.roundTrip(ctx)
	if !keep || err != nil {
		w.close()
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, err)
	}
	if err := w.check(status, w.ans.body()); err != nil {
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, err)
	}
	return nil
}

// roundTrip writes the request and reads its answer into w.ans. It dials when the worker has
// no connection; a reused connection the server closed while idle (nothing of the answer read)
// is redialed once, as net/http does.
func (w *httpWorker) roundTrip(ctx context.Context) (status int, keep bool, err error) {
	reused := w.conn != nil
	if !reused {
		if err := w.dial(ctx); err != nil {
			return 0, false, err
		}
	}
	status, keep, started, err := w.exchange(ctx)
	if err != nil && reused && !started && ctx.Err() == nil {
		w.close()
		if err := w.dial(ctx); err != nil {
			return 0, false, err
		}
		status, keep, _, err = w.exchange(ctx)
	}
	return status, keep, err
}

// exchange sends the request on w.conn and reads the answer; started tells whether any byte of
// the answer arrived.
func (w *httpWorker) exchange(ctx context.Context) (status int, keep, started bool, err error) {
	if err := w.conn.SetDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, false, false, err
	}
	if err := ctx.Err(); err != nil { // checked after the deadline is set, so interrupt cannot be undone
		return 0, false, false, err
	}
	if _, err := w.conn.Write(w.wire); err != nil {
		return 0, false, false, fmt.Errorf("send: %w", err)
	}
	w.ans.reset()
	for {
		k, err := w.conn.Read(w.ans.space())
		done, perr := w.ans.advance(k)
		switch {
		case perr != nil:
			return w.ans.status, false, true, perr
		case done:
			return w.ans.status, w.ans.keep, true, nil
		case err != nil:
			return w.ans.status, false, w.ans.n > 0, w.ans.cut(err)
		}
	}
}

// dial opens the worker's connection.
func (w *httpWorker) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: w.timeout}
	var c net.Conn
	var err error
	if w.tlsName != "" {
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: w.tlsName, NextProtos: []string{"http/1.1"}}}
		c, err = td.DialContext(ctx, "tcp", w.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", w.addr)
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	w.mu.Lock()
	w.conn = c
	w.mu.Unlock()
	return nil
}

// close closes the worker's connection, if any.
func (w *httpWorker) close() {
	w.mu.Lock()
	c := w.conn
	w.conn = nil
	w.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// watch makes the end of ctx interrupt a request in flight (once per context, not per request).
func (w *httpWorker) watch(ctx context.Context) {
	if ctx == w.ctx {
		return
	}
	if w.stop != nil {
		w.stop()
	}
	w.ctx = ctx
	w.stop = context.AfterFunc(ctx, w.interrupt)
}

// interrupt makes the read or write in flight on the worker's connection fail at once.
func (w *httpWorker) interrupt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.SetDeadline(time.Unix(1, 0))
	}
}

// expectOK accepts any 200 answer.
func expectOK(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", status, body)
	}
	return nil
}

// expectBody accepts a 200 answer of exactly want.
func expectBody(want []byte) func(int, []byte) error {
	return func(status int, body []byte) error {
		if err := expectOK(status, body); err != nil {
			return err
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("answer of %d bytes differs from the %d expected", len(body), len(want))
		}
		return nil
	}
}

// expectToken accepts a 200 answer whose "token" member is a signed compact JWS, so that an
// answer without a signature never counts toward a rate bounded by signing.
func expectToken(status int, body []byte) error {
	if err := expectOK(status, body); err != nil {
		return err
	}
	tok, ok := tokenIn(body)
	if !ok || !signedJWS(tok) {
		// The body is not quoted: it may hold a secret.
		return fmt.Errorf("no token, or no signed one, in the answer of %d bytes", len(body))
	}
	return nil
}

// expectTokenOf is expectToken for a server signing with alg: the token's header names alg and
// its signature has that algorithm's size (P-256: 64 bytes; RSA: at least 2048 bits), so that
// tokens of another algorithm, or not signed at all, never count toward a rate set against raw
// signing of alg.
func expectTokenOf(alg string) func(int, []byte) error {
	want := []byte(`"alg":"` + alg + `"`)
	return func(status int, body []byte) error {
		if err := expectToken(status, body); err != nil {
			return err
		}
		tok, _ := tokenIn(body)
		head, rest, _ := bytes.Cut(tok, []byte("."))
		_, sig, _ := bytes.Cut(rest, []byte("."))
		var buf [512]byte
		n, err := base64.RawURLEncoding.Decode(buf[:], head[:min(len(head), 680)])
		okSize := (alg == keys.ES256 && len(sig) == 86) || (alg == keys.RS256 && len(sig) >= 342)
		if err != nil || !bytes.Contains(buf[:n], want) || !okSize {
			return fmt.Errorf("the token is not signed with %s (header or signature size)", alg)
		}
		return nil
	}
}

// tokenIn returns the value of the "token" member of a token answer, and whether it has one
// (a fast scan, not a JSON parse: the value of a JWS holds no escapes).
func tokenIn(body []byte) ([]byte, bool) {
	_, rest, found := bytes.Cut(body, []byte(`"token":"`))
	tok, _, closed := bytes.Cut(rest, []byte(`"`))
	return tok, found && closed
}

// signedJWS reports whether tok is a compact JWS: three non-empty parts, the header a JSON
// object ("ey"). It looks only for the dots (a fast scan), so that checking every answer costs
// the driver little of the cores it shares with the server.
func signedJWS(tok []byte) bool {
	head, rest, _ := bytes.Cut(tok, []byte("."))
	payload, sig, _ := bytes.Cut(rest, []byte("."))
	return bytes.HasPrefix(head, []byte("ey")) && len(payload) > 0 && len(sig) > 0 && bytes.IndexByte(sig, '.') < 0
}
