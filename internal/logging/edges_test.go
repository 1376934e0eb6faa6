package logging

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// TestLogRequestDeclinesEveryControlByte pins that a request field holding any control
// byte (0x00-0x1f, 0x7f) is left to slog to escape, never written raw into the JSON line (a raw
// control byte makes the line invalid JSON, or forges terminal/log output).
// Guards against: request.go:118 `c < 0x20` -> `c < 0x1f`
func TestLogRequestDeclinesEveryControlByte(t *testing.T) {
	for c := byte(0); c < 0x20; c++ {
		r := Request{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Method: "GET", Path: "/a" + string([]byte{c}) + "b", Route: "r", Status: 200}
		var got bytes.Buffer
		if NewJSONHandler(&got).LogRequest(r) || got.Len() != 0 {
			t.Errorf("byte %#x written raw: %q", c, got.String())
		}
	}
	for _, c := range []byte{0x20, 0x7e} {
		r := Request{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Method: "GET", Path: "/a" + string([]byte{c}) + "b", Route: "r", Status: 200}
		if !NewJSONHandler(&bytes.Buffer{}).LogRequest(r) {
			t.Errorf("printable byte %#x declined", c)
		}
	}
}

// shortOut accepts one byte less than it is given, without an error.
type shortOut struct{}

func (shortOut) Write(p []byte) (int, error) { return max(len(p)-1, 0), nil }

// TestShortWriteIsReported pins that an underlying writer taking only part of a batch
// without an error is reported as a lost batch (io.ErrShortWrite), not silently dropped.
// Guards against: writer.go:189 `n < len(batch)` -> `n < 0`
func TestShortWriteIsReported(t *testing.T) {
	w := NewWriter(shortOut{}, Config{})
	defer w.Close()
	mustWrite(t, w, "a line\n")
	err := w.Flush()
	var be *BatchError
	if !errors.Is(err, io.ErrShortWrite) || !errors.As(err, &be) || be.Writes != 1 {
		t.Fatalf("Flush after a short write: %v, want a BatchError of 1 write wrapping io.ErrShortWrite", err)
	}
}

// TestBatchErrorKeepsTheFirstAndCountsAll pins that when several batches fail before the
// error is reported, the BatchError carries the first failure and counts the writes of every
// failed batch.
// Guards against: writer.go:197 `w.err == nil` -> `true` (later error replaces the first)
// Guards against: writer.go:200 `w.err.Writes += writes` -> `= writes`
func TestBatchErrorKeepsTheFirstAndCountsAll(t *testing.T) {
	errFirst, errSecond := errors.New("first"), errors.New("second")
	out, w := newHeld(t, Config{})
	out.fail = map[int]error{0: errFirst, 1: errSecond}
	mustWrite(t, w, "one\n")
	waitCall(t, out, 0)
	mustWrite(t, w, "two\n")
	mustWrite(t, w, "three\n")
	out.release()
	err := w.Flush()
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, errFirst) || be.Writes != 3 {
		t.Fatalf("Flush after two failed batches: %v, want a BatchError of 3 writes wrapping the first error", err)
	}
}
