package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"
)

// slogLine is the line slog's own JSON handler writes for r.
func slogLine(t *testing.T, r Request) string {
	t.Helper()
	var buf bytes.Buffer
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r.Record()); err != nil {
		t.Fatalf("slog Handle: %v", err)
	}
	return buf.String()
}

func TestLogRequestWritesSlogsLine(t *testing.T) {
	base := Request{Time: time.Date(2026, 12, 1, 14, 3, 4, 123456789, time.UTC), Method: "POST", Path: "/v1/token",
		Route: "POST /v1/token", Status: 200, Duration: 1234567, Remote: "127.0.0.1:53422", RequestID: "Ab-9_.z"}
	with := func(f func(*Request)) Request { r := base; f(&r); return r }
	tests := []struct {
		name string
		r    Request
	}{
		{"every field", base},
		{"no request id", with(func(r *Request) { r.RequestID = "" })},
		{"whole second", with(func(r *Request) { r.Time = r.Time.Truncate(time.Second) })},
		{"trailing zeros in the fraction", with(func(r *Request) { r.Time = r.Time.Truncate(time.Millisecond) })},
		{"another zone", with(func(r *Request) { r.Time = r.Time.In(time.FixedZone("x", -(5*3600 + 30*60))) })},
		{"monotonic reading", with(func(r *Request) { r.Time = time.Now() })},
		{"negative duration, odd status", with(func(r *Request) { r.Duration, r.Status = -5, 599 })},
		{"empty strings", Request{Time: base.Time}},
		{"printable punctuation", with(func(r *Request) { r.Path = "/a<b>&c'd?e=f%20g~`!@#$^*()[]{}|;:,+=" })},
		{"unmatched route, IPv6 remote", with(func(r *Request) { r.Route, r.Remote = "unmatched", "[::1]:8080" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			if !NewJSONHandler(&got).LogRequest(tc.r) {
				t.Fatal("LogRequest declined a line of plain strings")
			}
			if want := slogLine(t, tc.r); got.String() != want {
				t.Errorf("line differs from slog's:\n got %s\nwant %s", got.String(), want)
			}
		})
	}
}

func TestLogRequestLeavesEscapingToSlog(t *testing.T) {
	base := Request{Time: time.Date(2026, 12, 1, 14, 3, 4, 5, time.UTC), Method: "GET", Path: "/x", Route: "r", Status: 404}
	tests := []struct {
		name string
		set  func(*Request)
	}{
		{"quote in path", func(r *Request) { r.Path = `/a"b` }},
		{"backslash in path", func(r *Request) { r.Path = `/a\b` }},
		{"control byte in path", func(r *Request) { r.Path = "/a\nb" }},
		{"DEL in method", func(r *Request) { r.Method = "GE\x7fT" }},
		{"non-ASCII in path", func(r *Request) { r.Path = "/é" }},
		{"invalid UTF-8 in remote", func(r *Request) { r.Remote = "\xff" }},
		{"line separator in route", func(r *Request) { r.Route = "a\u2028b" }},
		{"tab in request id", func(r *Request) { r.RequestID = "a\tb" }},
		{"year 10000", func(r *Request) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"negative year", func(r *Request) { r.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.set(&r)
			var got bytes.Buffer
			if NewJSONHandler(&got).LogRequest(r) {
				t.Fatalf("LogRequest wrote %q; want it declined so that slog escapes it", got.String())
			}
			if got.Len() != 0 {
				t.Errorf("a declined line wrote %q", got.String())
			}
		})
	}
}

// Request lines and slog's lines share the writer: with one that is not safe for concurrent
// use, no line is lost, split or interleaved.
func TestJSONHandlerSerializesAnUnsafeWriter(t *testing.T) {
	var out bytes.Buffer
	h := NewJSONHandler(&out)
	log := slog.New(h)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					log.Info("other", "worker", w, "i", i)
					continue
				}
				h.LogRequest(Request{Time: time.Now(), Method: "GET", Path: fmt.Sprintf("/w%d/%d", w, i), Route: "r", Status: 200})
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", l, err)
		}
	}
}

// A Writer is used as it is (it is safe for concurrent use), and the lines reach it whole.
func TestJSONHandlerOnAWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, Config{})
	h := NewJSONHandler(w)
	if h.out != w {
		t.Errorf("the handler wrapped a *Writer: %T", h.out)
	}
	r := Request{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Method: "GET", Path: "/healthz", Route: "GET /healthz", Status: 200}
	h.LogRequest(r)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := slogLine(t, r); out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// JSONHandler is a slog.Handler: it passes slog's own handler contract suite.
func TestJSONHandlerSlogContract(t *testing.T) {
	var buf bytes.Buffer
	results := func() []map[string]any {
		var ms []map[string]any
		for _, line := range bytes.Split(buf.Bytes(), []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	if err := slogtest.TestHandler(NewJSONHandler(&buf), results); err != nil {
		t.Error(err)
	}
}
