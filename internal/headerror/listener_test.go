package headerror_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/headerror"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// served is an http.Server behind a headerror.Listener, plain or TLS.
type served struct {
	addr   string
	tls    *tls.Config // the client's, nil for plain
	logs   *syncbuf.Buffer
	states chan *tls.ConnectionState // each request's r.TLS
}

func serve(t *testing.T, useTLS bool, cfg headerror.Config) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &served{addr: ln.Addr().String(), logs: &syncbuf.Buffer{}, states: make(chan *tls.ConnectionState, 16)}
	var inner net.Listener = ln
	if useTLS {
		// httptest's certificate, and a client that trusts it.
		ts := httptest.NewTLSServer(http.NotFoundHandler())
		serverCfg := ts.TLS.Clone()
		s.tls = ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		ts.Close()
		inner = tls.NewListener(ln, serverCfg)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(s.logs, nil))
	srv := &http.Server{
		MaxHeaderBytes: 1 << 10,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.states <- r.TLS
			// An answer of the same headers net/http's own refusals carry, which is the
			// handler's and is left alone.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "the handler's own")
		}),
	}
	go func() { _ = srv.Serve(headerror.Listen(inner, cfg)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// dial opens a connection to s, with TLS when s has it.
func (s *served) dial(t *testing.T) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if s.tls != nil {
		c, err = tls.Dial("tcp", s.addr, s.tls)
	} else {
		c, err = net.Dial("tcp", s.addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// exchange sends head on c and reads one answer.
func exchange(t *testing.T, c net.Conn, head string) (*http.Response, string) {
	t.Helper()
	go func() { _, _ = io.WriteString(c, head) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

type envelope struct {
	Error struct{ Code, Message string } `json:"error"`
}

// TestRefusedHeadsAnswerInTheEnvelope: every request head net/http refuses before a handler
// runs gets the error envelope, with a 4xx, on a plain and on a TLS listener.
// Guards against: net/http's plain-text 400, 431, 501 and 505, and its empty 417, reaching the
// client; rewrite.go answering headers over the limit 431, a status the API never pairs with
// too_large.
func TestRefusedHeadsAnswerInTheEnvelope(t *testing.T) {
	for _, tc := range []struct {
		name, head    string
		status        int
		code, message string
	}{
		{"headers over the limit", "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 8<<10) + "\r\n\r\n",
			413, "too_large", "The request's headers are larger than the server takes."},
		{"a header line without a colon", "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
			400, "invalid_request", "The request's head is malformed."},
		{"a Content-Length not a number", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
			400, "invalid_request", "The request's head is malformed."},
		{"no Host", "GET / HTTP/1.1\r\n\r\n",
			400, "invalid_request", "The request's head is malformed: it has no Host header."},
		{"a malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
			400, "invalid_request", "The request's head is malformed: its Host header is malformed."},
		{"an unimplemented Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
			400, "invalid_request", "The request's Transfer-Encoding is not supported; send the body with Content-Length or chunked."},
		{"an unserved HTTP version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
			400, "invalid_request", "The request's HTTP version is not served; send HTTP/1.1."},
		{"an Expect other than 100-continue", "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}",
			400, "invalid_request", "The request's Expect header asks for what the server does not do; only 100-continue is taken."},
		{"an Expect other than 100-continue in HTTP/1.0", "POST / HTTP/1.0\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}",
			400, "invalid_request", "The request's Expect header asks for what the server does not do; only 100-continue is taken."},
	} {
		for _, useTLS := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " (plain)", true: " (TLS)"}[useTLS]
			t.Run(name, func(t *testing.T) {
				s := serve(t, useTLS, headerror.Config{})
				resp, body := exchange(t, s.dial(t), tc.head)
				var env envelope
				if err := json.Unmarshal([]byte(body), &env); err != nil {
					t.Fatalf("%d %q: not the envelope: %v", resp.StatusCode, body, err)
				}
				if resp.StatusCode != tc.status || env.Error.Code != tc.code || env.Error.Message != tc.message {
					t.Errorf("%d %s %q, want %d %s %q", resp.StatusCode, env.Error.Code, env.Error.Message, tc.status, tc.code, tc.message)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" || !resp.Close {
					t.Errorf("Content-Type %q, close %v; want application/json and the connection closed", ct, resp.Close)
				}
			})
		}
	}
}

// TestHandlerAnswersPassUnchanged: a handler's own answer, even of the content type and
// Connection header net/http's refusals carry, reaches the client as written, and a TLS request
// sees the handshake's state.
func TestHandlerAnswersPassUnchanged(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := serve(t, useTLS, headerror.Config{})
		resp, body := exchange(t, s.dial(t), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != 400 || body != "the handler's own" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("TLS %v: %d %q %q, want the handler's 400 unchanged", useTLS, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		st := <-s.states
		if useTLS != (st != nil) || (st != nil && (!st.HandshakeComplete || st.Version < tls.VersionTLS12)) {
			t.Errorf("TLS %v: the request's TLS state %+v", useTLS, st)
		}
	}
}

// TestPlainHTTPToTheTLSPortGetsTheEnvelope: a plain HTTP request sent to the TLS port is told,
// in plain HTTP and in the envelope, that the port serves HTTPS; the failed handshake is logged.
func TestPlainHTTPToTheTLSPortGetsTheEnvelope(t *testing.T) {
	s := serve(t, true, headerror.Config{})
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	resp, body := exchange(t, c, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
	var env envelope
	if err := json.Unmarshal([]byte(body), &env); err != nil || resp.StatusCode != 400 || env.Error.Code != "invalid_request" ||
		!strings.Contains(env.Error.Message, "serves HTTPS") {
		t.Errorf("plain HTTP to the TLS port: %d %q, want 400 invalid_request saying the port serves HTTPS", resp.StatusCode, body)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "client sent an HTTP request to an HTTPS server") {
		t.Errorf("log has no failed handshake: %q", logs)
	}
}

// TestTLSHandshakeIsBounded: a client that connects to the TLS port and sends nothing is cut
// off once HandshakeTimeout passes, as net/http bounds its own handshakes.
func TestTLSHandshakeIsBounded(t *testing.T) {
	s := serve(t, true, headerror.Config{HandshakeTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a silent client read %d bytes, %v; want the connection closed by the server", n, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
