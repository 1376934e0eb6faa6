package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// logRecord parses one JSON log line, failing the test on anything else.
func logRecord(t *testing.T, line string) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("not a whole JSON log line: %q (%v)", line, err)
	}
	return rec
}

// TestServeStderrOrder runs broker serve on the embedded default through start-up, a request
// and SIGTERM: its stderr holds the "starting" log line, then the printed bootstrap key and
// emulator hint, then only whole JSON log lines (the request's among them), the last of them
// "stopped", written before the process exits.
func TestServeStderrOrder(t *testing.T) {
	addr := freeAddr(t)
	p := startBroker(t, []string{"BROKER_CONFIG="}, "serve", "--listen", addr)
	cmd, stderr, done := p.cmd, p.stderr, p.done
	waitReady(t, "http://"+addr)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Request-Id", "order-probe")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit after SIGTERM:\n%s", stderr.String())
	}

	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) < 7 {
		t.Fatalf("too few lines on stderr:\n%s", stderr.String())
	}
	if msg := logRecord(t, lines[0])["msg"]; !strings.HasPrefix(msg.(string), "starting on the embedded default") {
		t.Errorf("first line is %q, want the starting log line", lines[0])
	}
	head := strings.Join(lines[1:6], "\n")
	if !adminKeyLine.MatchString(lines[2]) || lines[1] != "" || lines[3] != "" ||
		!strings.Contains(lines[4], "broker emulator --issuer http://"+addr) || lines[5] != "" {
		t.Errorf("after the starting line, want the bootstrap key and the emulator hint, each followed by a blank line; got:\n%s", head)
	}
	var msgs []string
	sawRequest := false
	for _, line := range lines[6:] {
		rec := logRecord(t, line)
		msgs = append(msgs, rec["msg"].(string))
		if rec["msg"] == "request" && rec["request_id"] == "order-probe" {
			sawRequest = true
		}
	}
	if !sawRequest {
		t.Errorf("no access log line for the request:\n%s", stderr.String())
	}
	if !slices.Contains(msgs, "listening") || msgs[len(msgs)-1] != "stopped" {
		t.Errorf("log messages after the banner %q: want \"listening\", and \"stopped\" last", msgs)
	}
}

// TestServeStartupErrorFollowsItsLog has broker serve fail after it logged that it is starting
// (its key directory lies under a regular file): the log line comes first, then the one error
// line.
func TestServeStartupErrorFollowsItsLog(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	path := filepath.Join(dir, "broker.yaml")
	cfg := "issuer: http://127.0.0.1:8080\nkeys: {backend: file, dir: " + filepath.Join(notDir, "keys") + "}\n"
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, nil, "serve", "--config", path)
	if r.code != exitError {
		t.Fatalf("exit %d, want %d: %s", r.code, exitError, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the starting log line and the error, got:\n%s", r.stderr)
	}
	if msg := logRecord(t, lines[0])["msg"]; msg != "starting with configuration file" {
		t.Errorf("first line %q, want the starting log line", lines[0])
	}
	if !strings.HasPrefix(lines[1], "broker serve: ") || !strings.Contains(lines[1], "not a directory") {
		t.Errorf("second line %q, want the error", lines[1])
	}
}

// slowStderr is a stderr that takes a while to accept each write: a line handed to it is seen
// only once its Write returns.
type slowStderr struct {
	delay time.Duration
	buf   *syncbuf.Buffer
}

func (s slowStderr) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.buf.Write(p)
}

// TestServeReturnsAfterItsLastLine runs broker serve in-process on a slow stderr and stops it:
// by the time the command returns, its last log line, "stopped", has been written.
func TestServeReturnsAfterItsLastLine(t *testing.T) {
	addr := freeAddr(t)
	buf := &syncbuf.Buffer{}
	stderr := slowStderr{delay: 50 * time.Millisecond, buf: buf}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, env{stdout: io.Discard, stderr: stderr, getenv: func(string) string { return "" }},
			[]string{"serve", "--listen", addr})
	}()
	waitReady(t, "http://"+addr)
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d:\n%s", c, buf.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not return after its context ended:\n%s", buf.String())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"msg":"stopped"`) {
		t.Errorf("when serve returned, stderr ended with %q, want the \"stopped\" line", last)
	}
}
