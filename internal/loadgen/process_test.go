package loadgen

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMissingProgramsAreNotInstalled: without redis-server or nginx the figures that need them
// are skipped, which the suite decides on ErrNotInstalled.
func TestMissingProgramsAreNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := nginxBins
	nginxBins = []string{t.TempDir() + "/nginx"}
	defer func() { nginxBins = saved }()
	if _, err := StartRedis(context.Background(), t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("StartRedis without redis-server: %v, want ErrNotInstalled", err)
	}
	if _, err := StartNginx(context.Background(), t.TempDir(), map[string][]byte{"/x": []byte("{}")}); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("StartNginx without nginx: %v, want ErrNotInstalled", err)
	}
}

// TestChildLogKeepsTheEndAndStaysBounded: a child's output goes to a file whose end serves
// error messages, and which is emptied when it passes its bound, the child writing on.
func TestChildLogKeepsTheEndAndStaysBounded(t *testing.T) {
	savedMax, savedCheck := maxChildLog, childLogCheck
	maxChildLog, childLogCheck = 4096, 10*time.Millisecond
	defer func() { maxChildLog, childLogCheck = savedMax, savedCheck }()
	dir := t.TempDir()
	// 5000 lines of about 10 bytes, written over about a second, then a last line.
	script := `i=0; while [ $i -lt 5000 ]; do if [ $((i % 250)) -eq 249 ]; then sleep 0.05; fi; echo "line $i"; i=$((i+1)); done; echo "the last line" >&2`
	c, err := startChild(childCommand{name: "sh", dir: dir, bin: "/bin/sh", args: []string{"-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	<-c.exited
	tail := c.logTail()
	if !strings.HasSuffix(tail, "line 4999 the last line") || len(tail) > logTailBytes {
		t.Errorf("tail %q: want at most %d bytes ending with the last lines", tail, logTailBytes)
	}
	st, err := os.Stat(filepath.Join(dir, "sh.out"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 2*maxChildLog { // about 50 KB were written; a check every 10 ms empties the file
		t.Errorf("the log file holds %d bytes, bound %d", st.Size(), maxChildLog)
	}
}
