package calllog

import (
	"slices"
	"sync"
)

// Log records calls of type C, oldest first. The zero Log is empty and ready to use; it is safe
// for concurrent use.
type Log[C any] struct {
	mu    sync.Mutex
	calls []C
}

// Record appends c to the log.
func (l *Log[C]) Record(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns a copy of the calls recorded so far, oldest first (nil when there are none).
// The copy is shallow: maps and slices inside a C are shared with the log.
func (l *Log[C]) Calls() []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// Fault is an injected failure: the HTTP status to answer and, where the emulator uses one,
// its error code.
type Fault struct {
	Status int
	Code   string
}

// Faults holds an injected failure for a number of upcoming requests. The zero Faults injects
// nothing; it is safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	left  int
	fault Fault
}

// Arm makes the next n calls of Take return Fault{status, code}. It replaces any failure still
// pending; n <= 0 clears it.
func (f *Faults) Arm(n, status int, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left, f.fault = max(n, 0), Fault{Status: status, Code: code}
}

// Take consumes one pending failure and reports whether there was one.
func (f *Faults) Take() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left <= 0 {
		return Fault{}, false
	}
	f.left--
	return f.fault, true
}
