package server

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// sharedListener accepts the connections of one listener for the http.Servers that take them
// in turn: the replica's until its drain begins, then the drain's until the replica exits. Each
// server accepts through its own view, whose Close ends that view only; Close ends the
// listener.
type sharedListener struct {
	ln  net.Listener
	log *slog.Logger
	// conns carries each accepted connection to whichever view accepts first.
	conns chan net.Conn
	// done is closed when ln stops accepting; err says why.
	done chan struct{}
	err  error
	// stop is closed by Close.
	stop     chan struct{}
	stopOnce sync.Once
}

// share starts accepting ln's connections.
func share(ln net.Listener, log *slog.Logger) *sharedListener {
	s := &sharedListener{ln: ln, log: log, conns: make(chan net.Conn),
		done: make(chan struct{}), stop: make(chan struct{})}
	go s.acceptLoop()
	return s
}

// acceptLoop accepts until ln fails for good, backing off on temporary errors (such as too many
// open files) as http.Server does. A connection accepted while no view takes it waits for one;
// one accepted as the listener closes is closed.
func (s *sharedListener) acceptLoop() {
	defer close(s.done)
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "error", err, "in", backoff.String())
				select {
				case <-time.After(backoff):
					continue
				case <-s.stop:
					err = net.ErrClosed
				}
			}
			s.err = err
			return
		}
		backoff = 0
		select {
		case s.conns <- c:
		case <-s.stop:
			_ = c.Close()
		}
	}
}

// view returns a listener that takes s's connections until it is closed.
func (s *sharedListener) view() net.Listener {
	return &listenerView{s: s, closed: make(chan struct{})}
}

// Close stops accepting: ln is closed, and a connection accepted but taken by no view.
func (s *sharedListener) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.ln.Close()
}

// listenerView is one server's way into a sharedListener.
type listenerView struct {
	s         *sharedListener
	closed    chan struct{}
	closeOnce sync.Once
}

// Accept returns the next connection, or net.ErrClosed once the view is closed, or the
// listener's error once it stopped.
func (v *listenerView) Accept() (net.Conn, error) {
	select {
	case <-v.closed:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-v.s.conns:
		return c, nil
	case <-v.closed:
		return nil, net.ErrClosed
	case <-v.s.done:
		if errors.Is(v.s.err, net.ErrClosed) {
			return nil, net.ErrClosed
		}
		return nil, v.s.err
	}
}

// Close ends the view, not the listener.
func (v *listenerView) Close() error {
	v.closeOnce.Do(func() { close(v.closed) })
	return nil
}

// Addr is the listener's address.
func (v *listenerView) Addr() net.Addr { return v.s.ln.Addr() }
