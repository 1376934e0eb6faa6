//go:build linux

package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestEventLoopAllocatesNothingPerRequest counts the allocations of the whole process (the
// loopback server here allocates nothing per request either) over runs of thousands of
// requests: what remains is per run (the latency slice), not per request.
func TestEventLoopAllocatesNothingPerRequest(t *testing.T) {
	answer := []byte(okAnswer)
	url, _ := rawServer(t, func(c net.Conn, _ int64) bool {
		_, err := c.Write(answer)
		return err == nil
	})
	l := newEventLoad(loadConfig{clients: 4, req: HTTPRequest{Method: http.MethodGet, URL: url, Check: expectBody([]byte(doc))}, timeout: time.Second})
	if l == nil {
		t.Fatal("no event loop for a plain http URL on Linux")
	}
	defer l.Close()
	ctx := context.Background()
	runs := []struct {
		name string
		run  func() Result
	}{
		{"closed loop", func() Result { return l.Closed(ctx, 200*time.Millisecond) }},
		{"open loop", func() Result { return l.Open(ctx, Schedule{Rate: 5000, Duration: 200 * time.Millisecond}) }},
	}
	for _, r := range runs {
		var res Result
		allocs := testing.AllocsPerRun(1, func() { res = r.run() })
		// At least 100 answers, however busy the machine: at most 5 allocations in all (those of
		// starting a run), or one per 100 requests, then show that requests do not allocate.
		if res.Errors != 0 || res.Count < 100 {
			t.Fatalf("%s: %d answers, %d errors (first %v)", r.name, res.Count, res.Errors, res.FirstErr)
		}
		if allocs > max(5, float64(res.Count)/100) {
			t.Errorf("%s: %.0f allocations for %d requests, %.3f per request", r.name, allocs, res.Count, allocs/float64(res.Count))
		} else {
			t.Logf("%s: %.0f allocations for %d requests", r.name, allocs, res.Count)
		}
	}
}

func TestNewHTTPLoadPicksTheEventLoopForPlainHTTP(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://127.0.0.1:1/doc", "*loadgen.eventLoad"},
		{"https://127.0.0.1:1/doc", "*loadgen.workerLoad"},
	}
	for _, tt := range tests {
		l := NewHTTPLoad(1, HTTPRequest{Method: http.MethodGet, URL: tt.url})
		if got := fmt.Sprintf("%T", l); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.url, got, tt.want)
		}
		l.Close()
	}
}
