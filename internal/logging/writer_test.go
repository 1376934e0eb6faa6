package logging

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// notWithin reports whether ch stays empty for a moment: used only to check that something is
// still blocked, which a slow machine cannot make pass wrongly.
func notWithin[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

// waitCall waits until out has entered its call number i.
func waitCall(t *testing.T, out *fakeOut, i int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-out.entered:
			if got >= i {
				return
			}
		case <-timeout:
			t.Fatalf("the underlying writer never got call %d", i)
		}
	}
}

func mustWrite(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// TestConcurrentWritesArriveWhole has many goroutines log at once: every line reaches the
// underlying writer exactly once, whole, no batch ends inside a line, and each goroutine's lines
// keep their order.
func TestConcurrentWritesArriveWhole(t *testing.T) {
	cases := []struct {
		name       string
		writers    int
		perWriter  int
		maxPending int
	}{
		{"one writer", 1, 2000, 0},
		{"many writers", 8, 500, 0},
		{"many writers, tiny queue", 8, 300, 100},
		{"lines over the bound", 4, 100, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := newFakeOut()
			w := NewWriter(out, Config{MaxPending: tc.maxPending})
			var wg sync.WaitGroup
			for g := range tc.writers {
				wg.Go(func() {
					for i := range tc.perWriter {
						// Lines of varied length, some longer than the smallest bounds.
						line := fmt.Sprintf("g%d i%d %s\n", g, i, strings.Repeat("x", (g*7+i)%40))
						if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
							t.Errorf("Write = %d, %v", n, err)
							return
						}
					}
				})
			}
			wg.Wait()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			next := make([]int, tc.writers)
			for _, b := range out.batches() {
				if len(b) == 0 || b[len(b)-1] != '\n' {
					t.Fatalf("a batch ends inside a line: %q", b)
				}
			}
			got := lines(out.text())
			for _, line := range got {
				var g, i int
				if _, err := fmt.Sscanf(line, "g%d i%d", &g, &i); err != nil {
					t.Fatalf("mangled line %q: %v", line, err)
				}
				if g < 0 || g >= tc.writers || i != next[g] {
					t.Fatalf("line %q out of order or repeated: want i%d next for g%d", line, next[g], g)
				}
				if want := fmt.Sprintf("g%d i%d %s", g, i, strings.Repeat("x", (g*7+i)%40)); line != want {
					t.Fatalf("line %q, want %q", line, want)
				}
				next[g]++
			}
			for g, n := range next {
				if n != tc.perWriter {
					t.Errorf("writer %d: %d lines arrived, want %d", g, n, tc.perWriter)
				}
			}
		})
	}
}

// TestSlowWriterGetsBatches holds the underlying writer inside its first Write: the lines logged
// meanwhile all go out in the next single Write.
func TestSlowWriterGetsBatches(t *testing.T) {
	cases := []struct {
		name  string
		lines int
	}{
		{"two lines wait", 2},
		{"hundred lines wait", 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, w := newHeld(t, Config{})
			mustWrite(t, w, "first\n")
			waitCall(t, out, 0)
			var want []string
			for i := range tc.lines {
				line := fmt.Sprintf("queued %d", i)
				want = append(want, line)
				mustWrite(t, w, line+"\n")
			}
			out.release()
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			b := out.batches()
			if len(b) != 2 || string(b[0]) != "first\n" {
				t.Fatalf("%d writes %q, want the first line, then one batch", len(b), b)
			}
			if got := lines(string(b[1])); !slices.Equal(got, want) {
				t.Errorf("second write holds %d lines %q, want %d", len(got), got, len(want))
			}
		})
	}
}

// TestBackPressure fills the queue while the underlying writer is held: the Write that would
// pass MaxPending blocks, and completes once the writer takes the queue; nothing is lost.
func TestBackPressure(t *testing.T) {
	cases := []struct {
		name    string
		max     int
		fits    []string // queued while the first line is held, within the bound
		blocked string
	}{
		{"exactly full", 10, []string{"bbbb\n", "cccc\n"}, "dddd\n"},
		{"one byte over", 9, []string{"bbbb\n"}, "cccc\n"},
		{"line larger than the bound waits for an empty queue", 4, []string{"bb\n"}, "a line longer than four bytes\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, w := newHeld(t, Config{MaxPending: tc.max})
			mustWrite(t, w, "aa\n")
			waitCall(t, out, 0)
			for _, s := range tc.fits {
				mustWrite(t, w, s)
			}
			done := make(chan error, 1)
			go func() {
				_, err := w.Write([]byte(tc.blocked))
				done <- err
			}()
			if !notWithin(done) {
				t.Fatal("a Write past MaxPending did not block while the writer was held")
			}
			out.release()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the blocked Write never completed after the writer drained")
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := "aa\n" + strings.Join(tc.fits, "") + tc.blocked
			if got := out.text(); got != want {
				t.Errorf("written %q, want %q", got, want)
			}
		})
	}
}

// TestFlushWaitsForDelivery requires Flush to return only after the underlying writer has
// returned from the Write holding every earlier line.
func TestFlushWaitsForDelivery(t *testing.T) {
	out, w := newHeld(t, Config{})
	mustWrite(t, w, "one\n")
	waitCall(t, out, 0)
	mustWrite(t, w, "two\n")
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush() }()
	if !notWithin(flushed) {
		t.Fatal("Flush returned while a line was still held")
	}
	out.release()
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if got := out.text(); got != "one\ntwo\n" {
		t.Errorf("after Flush the writer holds %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Errorf("Flush with nothing queued: %v", err)
	}
}

// TestCloseDrainsThenPassesThrough requires Close to write everything queued and later Writes,
// including one blocked by back-pressure when Close came, to reach the writer after it.
func TestCloseDrainsThenPassesThrough(t *testing.T) {
	out, w := newHeld(t, Config{MaxPending: 8})
	mustWrite(t, w, "held\n")
	waitCall(t, out, 0)
	mustWrite(t, w, "queued\n")
	blocked := make(chan error, 1)
	go func() {
		_, err := w.Write([]byte("blocked\n"))
		blocked <- err
	}()
	if !notWithin(blocked) {
		t.Fatal("the Write past MaxPending did not block")
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	if !notWithin(closed) {
		t.Fatal("Close returned while a line was still held")
	}
	out.release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "stopped\n")
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	b := out.batches()
	want := []string{"held\n", "queued\n", "blocked\n", "stopped\n"}
	got := make([]string, len(b))
	for i := range b {
		got[i] = string(b[i])
	}
	if !slices.Equal(got, want) {
		t.Errorf("writes %q, want %q (one each: after Close a Write goes straight through)", got, want)
	}
}

// TestErrorIsReported makes the underlying writer fail one batch: the next Write, Flush or Close
// returns a *BatchError wrapping it, once; the failed batch is not retried and later lines are
// written.
func TestErrorIsReported(t *testing.T) {
	errBroken := errors.New("broken pipe")
	cases := []struct {
		name   string
		report func(w *Writer) error
	}{
		{"next Write", func(w *Writer) error { _, err := w.Write([]byte("next\n")); return err }},
		{"Flush", func(w *Writer) error { return w.Flush() }},
		{"Close", func(w *Writer) error { return w.Close() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, w := newHeld(t, Config{})
			out.fail = map[int]error{0: errBroken}
			mustWrite(t, w, "lost 1\n")
			waitCall(t, out, 0)
			mustWrite(t, w, "kept\n")
			out.release()
			// The error is recorded before the writer takes the next batch.
			waitCall(t, out, 1)

			err := tc.report(w)
			var be *BatchError
			if !errors.Is(err, errBroken) || !errors.As(err, &be) || be.Writes != 1 {
				t.Fatalf("got %v, want a BatchError of 1 write wrapping %v", err, errBroken)
			}
			if err := w.Flush(); err != nil {
				t.Errorf("the error was reported twice: %v", err)
			}
			if got := out.text(); !strings.HasPrefix(got, "lost 1\nkept\n") {
				t.Errorf("written %q, want the failed batch once, then the lines after it", got)
			}
			if strings.Count(out.text(), "lost 1") != 1 {
				t.Errorf("the failed batch was retried: %q", out.text())
			}
		})
	}
}

// TestEmptyWrite requires a Write of nothing not to leave Flush waiting for it.
func TestEmptyWrite(t *testing.T) {
	out := newFakeOut()
	w := NewWriter(out, Config{})
	defer w.Close()
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v", n, err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush() }()
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Flush waits for an empty Write")
	}
}
