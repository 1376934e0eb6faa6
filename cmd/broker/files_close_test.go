package main

import (
	"os"
	"path/filepath"
	"testing"
)

// openFDCount is how many file descriptors this process has open.
func openFDCount(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count open files with: %v", err)
	}
	return len(fds)
}

// TestReadInputClosesItsFile checks that readInput closes the file it opened, whether it
// reads it, refuses it as too large, or refuses it as not a regular file: a command that reads
// several inputs must not leak a descriptor per file.
// Guards against: files.go the deferred f.Close() dropped
func TestReadInputClosesItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		limit   int64
		wantErr bool
	}{
		{"read whole", path, 10, false},
		{"over its cap", path, 5, true},
		{"not a regular file", "/dev/null", 10, true},
		{"a directory", filepath.Dir(path), 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const calls = 64
			before := openFDCount(t)
			for range calls {
				if _, err := readInput(tc.path, tc.limit); (err != nil) != tc.wantErr {
					t.Fatalf("readInput(%s, %d): %v, want an error: %v", tc.path, tc.limit, err, tc.wantErr)
				}
			}
			// A margin for descriptors the runtime or other tests open meanwhile; a leak is
			// one per call.
			if after := openFDCount(t); after-before >= calls/2 {
				t.Errorf("%d calls left %d more open descriptors (%d before)", calls, after-before, before)
			}
		})
	}
}
