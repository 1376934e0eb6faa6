package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServeLogsJSONWhenStderrIsNotATerminal runs broker serve with stderr on a pipe: without
// --log-format every log line is JSON, and a request's lines carry its request id.
func TestServeLogsJSONWhenStderrIsNotATerminal(t *testing.T) {
	addr := freeAddr(t)
	logs := startProcess(t, []string{"BROKER_CONFIG="}, "serve", "--listen", addr)
	waitReady(t, "http://"+addr)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Request-Id", "probe-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "probe-42" {
		t.Errorf("X-Request-Id = %q, want the request's own", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"probe-42"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var sawRequest bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if line == "" || !strings.HasPrefix(line, "{") && !strings.HasPrefix(line, "time=") {
			continue // the bootstrap key and the emulator hint are printed, not logged
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if rec["msg"] == "request" && rec["path"] == "/healthz" {
			sawRequest = true
			if rec["request_id"] != "probe-42" {
				t.Errorf("request line without its request id: %s", line)
			}
		}
	}
	if !sawRequest {
		t.Errorf("no request line logged:\n%s", logs.String())
	}
}

// TestLogFormatFor requires the automatic log format to follow stderr itself (text on a
// terminal, JSON elsewhere), and the handler to be of that format.
func TestLogFormatFor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test the terminal case with: %v", err)
	}
	defer tty.Close()
	tests := []struct {
		name   string
		w      any
		format string
		want   string // "json", "text" or "" for a usage error
	}{
		{"buffer, automatic", &bytes.Buffer{}, "", "json"},
		{"pipe, automatic", w, "", "json"},
		{"terminal, automatic", tty, "", "text"},
		{"pipe, text asked", w, "text", "text"},
		{"terminal, json asked", tty, "json", "json"},
		{"unknown format", w, "xml", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := tc.w.(interface{ Write([]byte) (int, error) })
			format, err := logFormatFor(out, tc.format)
			if format != tc.want || (tc.want == "") != (err != nil) {
				t.Fatalf("logFormatFor(%s, %q) = %q, %v; want %q", tc.name, tc.format, format, err, tc.want)
			}
			if err != nil {
				return
			}
			var line bytes.Buffer
			slog.New(logHandler(&line, format)).Info("hello", "k", "v")
			var got string
			switch {
			case json.Valid(line.Bytes()) && strings.Contains(line.String(), `"msg":"hello"`):
				got = "json"
			case strings.HasPrefix(line.String(), "time=") && strings.Contains(line.String(), " msg=hello k=v"):
				got = "text"
			}
			if got != tc.want {
				t.Errorf("logHandler(%q) makes %s lines, want %s", format, got, tc.want)
			}
		})
	}
}
