package fastpath

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers the requests the fast path understood.
type Handler interface {
	// Answer appends the whole answer to req, status line through body, to dst and returns it,
	// or returns false to leave this request and the rest of its connection to net/http.
	Answer(dst []byte, req *Request) ([]byte, bool)
}

// Config configures a Listener. The timeouts mean what http.Server's fields of the same names
// mean, and should be the same values; zero is no timeout.
type Config struct {
	// Handler answers the GET and HEAD requests the fast path understood.
	Handler Handler
	// Service answers the POST requests to Posts the fast path read whole (a head it
	// understood, with a Content-Length, that came with all of its body, within the read
	// buffer) and the GET requests to Gets. Service gets them as net/http would give them
	// (see newServiceRequest), and must answer them without flushing or hijacking (see
	// answerWriter). As net/http's, their context ends when the answer is done or the client
	// hangs up, noticed from 50 ms into the answer (see watchHangUpAfter), and outlives
	// ReadTimeout (net/http clears the read deadline for its own watch).
	Service http.Handler
	// Posts are the paths of the POST requests the fast path reads for Service; with none it
	// reads none.
	Posts []string
	// Gets are the paths of the GET requests without a body that the fast path reads for
	// Service when Handler does not answer them (a HEAD goes to net/http). A connection whose
	// requests are all the fast path's stays with it: kept alive between requests, it holds the
	// fast path's read buffer where net/http holds its read and write buffers.
	Gets []string
	// ReadHeaderTimeout bounds the reading of one request head.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a request: the head's bound when ReadHeaderTimeout is
	// zero, and the idle bound when IdleTimeout is.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writing of one answer.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive connection.
	IdleTimeout time.Duration
	// Logger receives the listener's accept errors.
	Logger *slog.Logger
}

// headTimeout is the bound on reading one request head.
func (c Config) headTimeout() time.Duration {
	if c.ReadHeaderTimeout > 0 {
		return c.ReadHeaderTimeout
	}
	return c.ReadTimeout
}

// idleTimeout is the bound on waiting for the next request.
func (c Config) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return c.ReadTimeout
}

// Listener serves the fast path on the connections of an inner listener and returns the rest,
// through Accept, for net/http to serve.
type Listener struct {
	inner   net.Listener
	cfg     Config
	handoff chan net.Conn
	// closed is closed when the inner listener stops accepting; err says why.
	closed    chan struct{}
	closeOnce sync.Once
	err       error

	mu    sync.Mutex
	conns map[*conn]struct{}
	// shutting is set by Shutdown: connections close after their answer instead of waiting.
	shutting atomic.Bool
	// draining is set by Drain: connections close after their answer, and new ones are still
	// accepted.
	draining atomic.Bool
}

// Listen starts serving the fast path on the connections inner accepts.
func Listen(inner net.Listener, cfg Config) *Listener {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Service == nil {
		cfg.Posts, cfg.Gets = nil, nil
	}
	l := &Listener{
		inner: inner, cfg: cfg, handoff: make(chan net.Conn),
		closed: make(chan struct{}), conns: map[*conn]struct{}{},
	}
	go l.acceptLoop()
	return l
}

// acceptLoop accepts the inner listener's connections until it fails for good, backing off
// on temporary errors (such as too many open files) as http.Server does.
func (l *Listener) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				l.cfg.Logger.Warn("accept failed; retrying", "error", err, "in", backoff.String())
				time.Sleep(backoff)
				continue
			}
			l.stop(err)
			return
		}
		backoff = 0
		c := &conn{Conn: nc, l: l, accepted: time.Now()}
		c.state.Store(stateNew)
		if !l.track(c) {
			_ = nc.Close()
			continue
		}
		go c.serve()
	}
}

// stop marks the listener closed with err, once.
func (l *Listener) stop(err error) {
	l.closeOnce.Do(func() {
		if errors.Is(err, net.ErrClosed) {
			err = net.ErrClosed
		}
		l.err = err
		close(l.closed)
	})
}

// Accept returns the next connection for net/http: one the fast path handed over.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.handoff:
		return c, nil
	case <-l.closed:
		return nil, l.err
	}
}

// Close stops accepting connections. Connections already accepted are not closed: Shutdown
// closes the fast path's, http.Server's Shutdown closes net/http's.
func (l *Listener) Close() error {
	err := l.inner.Close()
	l.stop(net.ErrClosed)
	return err
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// give hands c to net/http, or closes it when the listener no longer accepts.
func (l *Listener) give(c net.Conn) {
	select {
	case l.handoff <- c:
	case <-l.closed:
		_ = c.Close()
	}
}

// track adds c to the connections the fast path serves; false when shutting down.
func (l *Listener) track(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shutting.Load() {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

// untrack removes c.
func (l *Listener) untrack(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// Drain makes every answer from now on the last of its connection, saying "Connection: close",
// and closes the idle connections, while the listener goes on accepting: a server that is
// stopping answers the public documents until it exits, since a load balancer may still send
// connections its way (see Server.Serve in package server). Connections the fast path does not
// answer still go to Accept. Close stops the accepting and Shutdown ends the rest.
func (l *Listener) Drain() {
	l.draining.Store(true)
	l.closeIdle()
}

// closing says whether an answer written now is its connection's last.
func (l *Listener) closing() bool { return l.shutting.Load() || l.draining.Load() }

// shutdownPoll is how often Shutdown looks for connections that went idle.
const shutdownPoll = 10 * time.Millisecond

// Shutdown closes the fast path's idle connections, and the connections accepted from now on,
// and waits for its busy ones to finish their answer and close, or for ctx to end, when it
// closes them all and returns ctx's error. Call it alongside http.Server.Shutdown, which
// closes the listener (so that Serve returns http.ErrServerClosed) and net/http's connections.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.shutting.Store(true)
	t := time.NewTicker(shutdownPoll)
	defer t.Stop()
	for {
		if l.closeIdle() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			l.mu.Lock()
			for c := range l.conns {
				_ = c.Close()
			}
			l.mu.Unlock()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// CutBusy closes the connections whose Service is answering a request, as http.Server.Close
// closes net/http's, and leaves the others and the accepting as they are (a head on its way
// gets its public document): the context of each such request ends (see hangUpWatch), and its
// answer is not written.
func (l *Listener) CutBusy() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if c.serving.Load() {
			_ = c.Close()
		}
	}
}

// closeIdle closes the idle connections, and those new for longer than newIdleAfter, and returns
// how many connections remain.
func (l *Listener) closeIdle() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) ||
			time.Since(c.accepted) > newIdleAfter && c.state.CompareAndSwap(stateNew, stateClosed) {
			_ = c.Close()
			delete(l.conns, c)
		}
	}
	return len(l.conns)
}
