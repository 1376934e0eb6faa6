package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// A client that hangs up while its request waits on the store is no fault of the server: the
// request is neither logged at ERROR nor counted as a 5xx (it is 499, client closed), or any
// unauthenticated client could make a replica report internal errors at will.
func TestClientHangupIsNotAnInternalError(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis"})
	ctx := context.Background()
	if err := redis.Client().Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "POST /v1/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer brk_run_nosuchtokennosuchtokennosuchtoken\r\nContent-Length: 0\r\n\r\n")
	time.Sleep(200 * time.Millisecond)
	_ = c.Close()
	time.Sleep(2500 * time.Millisecond)
	wantHangupCounted(t, ts)
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, "/v1/token") {
			t.Errorf("a client hang-up is logged as an error: %s", line)
		}
	}
}

// wantHangupCounted fails t when ts counts a request as a 5xx, or counts none as 499.
func wantHangupCounted(t *testing.T, ts *testServer) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	counted := false
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "broker_http_requests_total") && strings.Contains(line, `code="5`) {
			t.Errorf("a client hang-up is counted as a server error: %s", line)
		}
		if strings.HasPrefix(line, "broker_http_requests_total") && strings.Contains(line, `code="499"`) {
			counted = true
		}
	}
	if !counted {
		t.Error("the abandoned request is not counted as 499")
	}
}

// TestClientHangupAfterTheHeadTimeoutIsNotAnInternalError: a client that hangs up while its
// token request (sent whole, so read by the fast path) waits on the store is counted 499, also
// when it hangs up after http.read_header_timeout passed since it connected: as net/http's
// watch of the client, the fast path's is bounded by no deadline of the request's head.
// Found by review: the test fails on the code before the fix.
// Guards against: fastpath hangup.go:watch waiting under the head's read deadline, which ended
// the watch at read_header_timeout, so that a later hang-up was answered 503 by the store's
// timeout.
func TestClientHangupAfterTheHeadTimeoutIsNotAnInternalError(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis",
		extraYAML: "\nhttp: {read_header_timeout: 300ms, read_timeout: 30s}\n"})
	c := dialServer(t, ts)
	if err := redis.Client().Do(context.Background(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "POST /v1/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer brk_run_nosuchtokennosuchtokennosuchtoken\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	time.Sleep(600 * time.Millisecond) // past read_header_timeout (from the dial), within the store's wait
	_ = c.Close()
	time.Sleep(2500 * time.Millisecond)
	wantHangupCounted(t, ts)
}
