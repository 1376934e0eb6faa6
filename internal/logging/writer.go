package logging

import (
	"fmt"
	"io"
	"runtime"
	"sync"
)

// DefaultMaxPending is the bound on queued bytes when Config.MaxPending is zero or less: about a
// thousand access log lines, far more than one write(2) needs to carry to amortise its cost,
// and small enough that the two buffers a burst leaves behind stay well under a MiB.
const DefaultMaxPending = 256 << 10

// Config tunes a Writer.
type Config struct {
	// MaxPending bounds the bytes queued and not yet handed to the underlying writer. A Write that
	// would take the queue past it blocks until the writer goroutine takes the queue; a single
	// line larger than the bound is queued alone. Zero or less means DefaultMaxPending.
	MaxPending int
}

// BatchError reports that a Write of the underlying writer failed: the lines of that batch were
// dropped, not retried (the failed Write may have written part of them, and a retry would repeat
// that part). Lines queued later are still written.
type BatchError struct {
	// Writes is the number of Write calls whose lines were in the failed batches.
	Writes int
	// Err is the underlying writer's error (the first one, when several batches failed before it
	// was reported).
	Err error
}

// Error says how many writes were lost and why.
func (e *BatchError) Error() string {
	return fmt.Sprintf("logging: %d queued writes dropped: %v", e.Writes, e.Err)
}

// Unwrap returns the underlying writer's error.
func (e *BatchError) Unwrap() error { return e.Err }

// Writer is an io.Writer that queues each Write whole and writes the queue to an underlying
// writer from one goroutine, one Write per batch. It is safe for concurrent use; its lines are
// never split or interleaved, and each reaches the underlying writer in the order its Write
// returned.
//
// A failed Write of the underlying writer drops its batch and is reported once, as a
// *BatchError, by the next Write, Flush or Close; a Write that reports it has still queued its
// own p, as its n says.
//
// The queue and the batch being written are two buffers swapped and reused, so a Write allocates
// nothing once they have grown to the load's batch size; each keeps the largest size it reached
// (about MaxPending plus one line at most) for the Writer's life.
type Writer struct {
	out io.Writer
	max int

	mu      sync.Mutex
	cond    sync.Cond // signalled when the queue is taken and when a batch is written
	pending []byte    // queued lines, not yet taken by the writer goroutine
	spare   []byte    // the other buffer, reused for the next queue; nil while its batch is written
	writes  int       // Write calls in pending
	queued  uint64    // Write calls queued since NewWriter
	written uint64    // Write calls whose batch the underlying writer has returned from
	idle    bool      // the writer goroutine waits on wake
	closed  bool      // Close was called: no more queuing
	err     *BatchError
	wake    chan struct{} // capacity 1: one token per idle period
	done    chan struct{} // closed when the writer goroutine has drained and returned
}

// NewWriter returns a Writer over w and starts its writer goroutine, which runs until Close.
func NewWriter(w io.Writer, cfg Config) *Writer {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	lw := &Writer{out: w, max: cfg.MaxPending, wake: make(chan struct{}, 1), done: make(chan struct{})}
	lw.cond.L = &lw.mu
	go lw.run()
	return lw
}

// Write queues a copy of p whole and wakes the writer goroutine if it is idle. It blocks while
// the queue is full. After Close it writes p straight to the underlying writer.
func (w *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	for !w.closed && len(w.pending) > 0 && len(w.pending)+len(p) > w.max {
		w.cond.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // the queue reaches w before p does
		return w.out.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.writes++
	w.queued++
	if w.idle {
		w.idle = false
		w.wake <- struct{}{}
	}
	err := w.takeErr()
	w.mu.Unlock()
	if err != nil {
		return len(p), err
	}
	return len(p), nil
}

// Flush returns once every line queued before the call has been handed to the underlying
// writer and it has returned, with the error of a failed batch not yet reported.
func (w *Writer) Flush() error {
	w.mu.Lock()
	target := w.queued
	for w.written < target {
		w.cond.Wait()
	}
	err := w.takeErr()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return nil
}

// Close writes everything queued, stops the writer goroutine and returns the error of a failed
// batch not yet reported. Later Writes go straight to the underlying writer, from their callers'
// goroutines (so concurrent callers need a writer safe for concurrent use, as an *os.File is).
// Close does not close the underlying writer; calling it again only waits for the first call's
// drain.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.cond.Broadcast() // blocked Writes now wait for the drain and write through
		if w.idle {
			w.idle = false
			w.wake <- struct{}{}
		}
	}
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	err := w.takeErr()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return nil
}

// takeErr returns the unreported batch error, if any, and forgets it. It is called with mu held.
func (w *Writer) takeErr() *BatchError {
	err := w.err
	w.err = nil
	return err
}

// run is the writer goroutine: it takes the whole queue, writes it with one Write, and repeats;
// with nothing queued it sleeps until a Write or Close wakes it, yields once, and returns once
// closed and drained.
func (w *Writer) run() {
	defer close(w.done)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.pending) == 0 {
			if w.closed {
				return
			}
			w.idle = true
			w.mu.Unlock()
			<-w.wake
			// Let the goroutines already runnable (under load, other requests about to log)
			// run before the queue is taken, so one write carries their lines too. With none
			// runnable, as at low load, this returns at once: there is no timer.
			runtime.Gosched()
			w.mu.Lock()
		}
		batch, writes, end := w.pending, w.writes, w.queued
		w.pending, w.spare, w.writes = w.spare[:0], nil, 0
		w.cond.Broadcast() // the queue has room again
		w.mu.Unlock()

		n, err := w.out.Write(batch)
		if err == nil && n < len(batch) {
			err = io.ErrShortWrite
		}

		w.mu.Lock()
		w.spare = batch[:0]
		w.written = end
		if err != nil {
			if w.err == nil {
				w.err = &BatchError{Err: err}
			}
			w.err.Writes += writes
		}
		w.cond.Broadcast() // Flush waiters
	}
}
