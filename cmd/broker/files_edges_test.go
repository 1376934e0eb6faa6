package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadInputTakesAFileOfExactlyItsCap checks that a regular file whose size equals the
// cap is read whole: the cap is the largest size accepted, not the first one refused.
// Guards against: files.go:info.Size() > limit becomes >=
func TestReadInputTakesAFileOfExactlyItsCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := readInput(path, 10)
	if err != nil || string(data) != "0123456789" {
		t.Fatalf("readInput of a 10-byte file, cap 10 = %q, %v; want it whole", data, err)
	}
}

// TestReadInputRefusesContentBeyondItsStatSize checks that a regular file holding more
// than the cap is refused even when its size, as stat reports it, is within the cap (a file
// that grows while it is read, or a kernel file that reports size 0): its content is never
// silently truncated nor returned past the cap.
// Guards against: files.go:io.LimitReader(f, limit+1) becomes io.LimitReader(f, limit)
// Guards against: files.go:the "grew past" check dropped
func TestReadInputRefusesContentBeyondItsStatSize(t *testing.T) {
	const path = "/proc/self/status" // regular, stat size 0, content of several hundred bytes
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() || info.Size() != 0 {
		t.Fatalf("test set-up: %s is not a regular file of stat size 0 here (%v)", path, err)
	}
	data, err := readInput(path, 16)
	if err == nil || !strings.Contains(err.Error(), "grew past the 16 bytes") {
		t.Fatalf("readInput(%s, 16) = %d bytes, %v; want a refusal that it grew past 16 bytes",
			path, len(data), err)
	}
}
