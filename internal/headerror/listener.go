package headerror

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
)

// Config configures a Listener.
type Config struct {
	// HandshakeTimeout bounds a TLS handshake, as http.Server bounds its own: the shortest of its
	// non-zero read-header, read and write timeouts. Zero leaves it unbounded.
	HandshakeTimeout time.Duration
	// Logger records failed TLS handshakes; nil means slog.Default().
	Logger *slog.Logger
}

// Listener wraps a listener whose connections net/http serves, plain or *tls.Conn.
type Listener struct {
	net.Listener
	cfg Config
}

// Listen wraps ln.
func Listen(ln net.Listener, cfg Config) *Listener {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Listener{Listener: ln, cfg: cfg}
}

// Accept returns the next connection, wrapped.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &tlsConn{Conn: tc, cfg: &l.cfg}, nil
	}
	return &conn{Conn: c}, nil
}

// conn is a plain connection whose net/http answers to refused heads are rewritten.
type conn struct {
	net.Conn
}

// Write writes b, or the envelope answer standing for it (rewrite).
func (c *conn) Write(b []byte) (int, error) { return write(c.Conn, b) }

// CloseWrite shuts the writing side when the connection can, as net/http does after an answer
// it sends before closing (headers over the limit among them), so that the client reads it before the close.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// write writes b to w, or the envelope answer standing for b, counting b as written.
func write(w net.Conn, b []byte) (int, error) {
	ans, ok := rewrite(b)
	if !ok {
		return w.Write(b)
	}
	if _, err := w.Write(ans); err != nil {
		return 0, err
	}
	return len(b), nil
}

// tlsConn is a TLS connection whose net/http answers to refused heads are rewritten. net/http
// makes the handshake of a *tls.Conn itself; this one makes its own when net/http first asks
// for its state, which it does before reading a request.
type tlsConn struct {
	*tls.Conn
	cfg  *Config
	once sync.Once
}

// Write writes b, or the envelope answer standing for it (rewrite).
func (c *tlsConn) Write(b []byte) (int, error) { return write(c.Conn, b) }

// ConnectionState makes the handshake if it has not been made, then returns the state.
func (c *tlsConn) ConnectionState() tls.ConnectionState {
	c.once.Do(c.handshake)
	return c.Conn.ConnectionState()
}

// handshake makes the TLS handshake within HandshakeTimeout. On failure it closes the
// connection, first answering in plain HTTP, in the envelope, a client that sent plain HTTP.
func (c *tlsConn) handshake() {
	if c.cfg.HandshakeTimeout > 0 {
		_ = c.Conn.SetDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
		defer func() { _ = c.Conn.SetDeadline(time.Time{}) }()
	}
	err := c.Conn.HandshakeContext(context.Background())
	if err == nil {
		return
	}
	var re tls.RecordHeaderError
	plain := errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader)
	reason := err.Error()
	if plain {
		reason = "client sent an HTTP request to an HTTPS server"
	}
	// Logged before the answer, which is the last thing the client waits for.
	c.cfg.Logger.Warn("TLS handshake failed", "remote", c.Conn.RemoteAddr().String(), "reason", reason)
	if plain {
		_, _ = re.Conn.Write(answer(400, apierror.New(apierror.CodeInvalidRequest,
			"This port serves HTTPS; the request was sent in plain HTTP.")))
	}
	_ = c.Conn.Close()
}

// looksLikeHTTP reports whether the first five bytes of a connection, read as a TLS record's
// header, begin a plain HTTP request instead.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "PATCH", "DELET", "OPTIO":
		return true
	}
	return false
}
