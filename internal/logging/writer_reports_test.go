package logging

import (
	"errors"
	"io"
	"testing"
	"time"
)

// TestWriteReportingAnErrorStillQueuedItsLine pins that a Write which reports an earlier
// failed batch returns n == len(p): its own line was queued and is written.
// Guards against: writer.go:Write returns 0 with the reported batch error
func TestWriteReportingAnErrorStillQueuedItsLine(t *testing.T) {
	errBroken := errors.New("broken pipe")
	out, w := newHeld(t, Config{})
	out.fail = map[int]error{0: errBroken}
	mustWrite(t, w, "lost\n")
	waitCall(t, out, 0)
	mustWrite(t, w, "next\n")
	out.release()
	waitCall(t, out, 1) // the failure is recorded before the next batch is taken
	n, err := w.Write([]byte("kept\n"))
	if n != len("kept\n") || !errors.Is(err, errBroken) {
		t.Fatalf("Write reporting a failed batch = %d, %v; want %d", n, err, len("kept\n"))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.text(); got != "lost\nnext\nkept\n" {
		t.Errorf("written %q", got)
	}
}

// TestRequestLineReusesItsBuffer pins that LogRequest builds a line in a pooled buffer:
// once warmed, a line over a writer that does not allocate costs no allocation.
// Guards against: request.go:LogRequest buffer never returned to the pool
func TestRequestLineReusesItsBuffer(t *testing.T) {
	h := NewJSONHandler(io.Discard)
	r := Request{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Method: "GET", Path: "/healthz",
		Route: "GET /healthz", Status: 200, Remote: "127.0.0.1:1", RequestID: "id"}
	h.LogRequest(r)
	if allocs := testing.AllocsPerRun(100, func() { h.LogRequest(r) }); allocs != 0 {
		t.Errorf("LogRequest allocates %v times a line, want none", allocs)
	}
}
