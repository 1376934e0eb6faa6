package fastpath

import (
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

// watchHangUpAfter is how long a Service answer may take before the fast path watches its
// client for a hang-up. net/http watches every request from its start, with a goroutine and a
// read that finds nothing in most; a request slower than this is one waiting on something (a
// store, the signatures queued before it), where a client's hang-up should end the wait, as
// net/http ends it. It is longer than a request waits for a signature on a saturated 2-core
// replica at RS256 with 64 clients (about 32 ms), so that such a replica starts few watches, and
// far shorter than the store's timeouts, the waits a hang-up should end.
const watchHangUpAfter = 50 * time.Millisecond

// aLongTimeAgo is a deadline in the past: it wakes a read waiting on the connection at once.
var aLongTimeAgo = time.Unix(1, 0)

// hangUpWatch cancels the context of the Service answer under way when its client hangs up
// (closes or resets the connection), as net/http cancels a request's context: it looks from
// watchHangUpAfter after the answer began until the answer is done, without reading the
// connection, so bytes the client sent meanwhile stay for the next request.
type hangUpWatch struct {
	raw syscall.RawConn
	// setReadDeadline sets the connection's read deadline.
	setReadDeadline func(time.Time) error
	timer           *time.Timer

	mu sync.Mutex
	// cancel ends the context of the answer under way; nil between answers.
	cancel context.CancelFunc
	// watching is closed when the watch of the answer under way ends; nil when none began.
	watching chan struct{}
}

// newHangUpWatch returns a watch of c's client, or nil when c is not a connection whose
// socket it can look at.
func newHangUpWatch(c net.Conn) *hangUpWatch {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &hangUpWatch{raw: raw, setReadDeadline: c.SetReadDeadline}
	w.timer = time.AfterFunc(time.Hour, w.watch)
	w.timer.Stop()
	return w
}

// begin watches the client of the answer whose context cancel ends, from watchHangUpAfter.
func (w *hangUpWatch) begin(cancel context.CancelFunc) {
	w.mu.Lock()
	w.cancel, w.watching = cancel, nil
	w.mu.Unlock()
	w.timer.Reset(watchHangUpAfter)
}

// watch waits until the client hangs up or the connection is closed (by Shutdown or
// CutBusy), then cancels the answer's context, or until end stops it (with a read deadline in
// the past). As net/http's watch, it is bounded by no read deadline of the request's.
func (w *hangUpWatch) watch() {
	w.mu.Lock()
	cancel := w.cancel
	if cancel == nil || w.watching != nil {
		// The answer ended first, or this is a timer's late call for the answer before, whose
		// watch of this answer is already under way (or done).
		w.mu.Unlock()
		return
	}
	done := make(chan struct{})
	w.watching = done
	// Cleared before end can see the watch: end's deadline in the past comes after it.
	err := w.setReadDeadline(time.Time{})
	w.mu.Unlock()
	defer close(done)
	hungUp := false
	if err == nil {
		err = w.raw.Read(func(fd uintptr) bool {
			var ready bool
			hungUp, ready = peekHangUp(fd)
			return ready
		})
	}
	// An error is a closed connection, or end's deadline once the answer is done, when the
	// context ends anyway.
	if hungUp || err != nil {
		cancel()
	}
}

// end stops watching the answer under way and returns once its watch ended: a watch under way
// is woken by a read deadline in the past, cleared after it.
func (w *hangUpWatch) end() {
	w.timer.Stop()
	w.mu.Lock()
	w.cancel = nil
	done := w.watching
	w.mu.Unlock()
	if done == nil {
		return
	}
	_ = w.setReadDeadline(aLongTimeAgo)
	<-done
	_ = w.setReadDeadline(time.Time{})
}
