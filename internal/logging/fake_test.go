package logging

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeOut records every Write call. With hold set, each call waits until hold is closed; every
// call announces its index on entered (when set, without blocking) and fails with fail[index].
type fakeOut struct {
	hold    chan struct{}
	release func() // closes hold, once
	entered chan int
	fail    map[int]error

	mu    sync.Mutex
	calls [][]byte
}

func newFakeOut() *fakeOut { return &fakeOut{entered: make(chan int, 1<<16)} }

// newHeld returns a Writer over a fakeOut holding every call until released; at the end of the
// test the fake is released and the Writer closed, so a failing test ends instead of hanging.
func newHeld(t *testing.T, cfg Config) (*fakeOut, *Writer) {
	out := newFakeOut()
	out.hold = make(chan struct{})
	out.release = sync.OnceFunc(func() { close(out.hold) })
	w := NewWriter(out, cfg)
	t.Cleanup(func() {
		out.release()
		_ = w.Close()
	})
	return out, w
}

func (f *fakeOut) Write(p []byte) (int, error) {
	f.mu.Lock()
	i := len(f.calls)
	f.calls = append(f.calls, bytes.Clone(p))
	f.mu.Unlock()
	select {
	case f.entered <- i:
	default:
	}
	if f.hold != nil {
		<-f.hold
	}
	if err := f.fail[i]; err != nil {
		return 0, err
	}
	return len(p), nil
}

// batches returns a copy of the recorded calls.
func (f *fakeOut) batches() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.calls...)
}

// text is everything written, failed calls included.
func (f *fakeOut) text() string { return string(bytes.Join(f.batches(), nil)) }

// lines splits the text into lines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// countingWriter counts the Write calls that reach w.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.w.Write(p)
}
