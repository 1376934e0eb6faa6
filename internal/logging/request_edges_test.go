package logging

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestUnsafeWriterNeverEnteredTwice pins that a JSONHandler over a writer that is not a
// *Writer never has two Writes in it at once: while a request line is inside the writer, one of
// slog's own lines waits for it.
// Guards against: request.go:NewJSONHandler lockedWriter not wrapped around w
// Guards against: request.go:lockedWriter.Write lock dropped
func TestUnsafeWriterNeverEnteredTwice(t *testing.T) {
	out := newFakeOut()
	out.hold = make(chan struct{})
	out.release = sync.OnceFunc(func() { close(out.hold) })
	t.Cleanup(out.release)
	h := NewJSONHandler(out)
	var wg sync.WaitGroup
	wg.Go(func() {
		h.LogRequest(Request{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Method: "GET", Path: "/a", Route: "r", Status: 200})
	})
	waitCall(t, out, 0)
	wg.Go(func() { slog.New(h).Info("other") })
	if !notWithin(out.entered) {
		t.Error("slog's line entered the writer while a request line was still in it")
	}
	out.release()
	wg.Wait()
	if n := len(out.batches()); n != 2 {
		t.Errorf("%d writes, want 2", n)
	}
}

// TestZeroTimeLineMatchesSlog pins that LogRequest writes the same bytes slog's Handle
// writes for r.Record() also for a zero Time, which slog's JSON handler leaves out of the line
// (LogRequest may instead decline the line, and slog's Handle then writes it).
func TestZeroTimeLineMatchesSlog(t *testing.T) {
	r := Request{Method: "GET", Path: "/healthz", Route: "GET /healthz", Status: 200}
	var got bytes.Buffer
	if NewJSONHandler(&got).LogRequest(r) {
		if want := slogLine(t, r); got.String() != want {
			t.Errorf("zero time:\n got %s\nwant %s", got.String(), want)
		}
	}
}
