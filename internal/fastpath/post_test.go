package fastpath

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// postService is a Service for /token that answers "service" with the body it read, keeps
// each request's context, and holds its answer until release is closed when hold is set.
type postService struct {
	calls   atomic.Int32
	ctxs    chan context.Context
	hold    bool
	release chan struct{}
}

func newPostService() *postService {
	return &postService{ctxs: make(chan context.Context, 16), release: make(chan struct{})}
}

func (p *postService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.calls.Add(1)
	p.ctxs <- r.Context()
	if p.hold {
		<-p.release
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Path", "fast")
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "service "+string(body))
}

// onePost is a POST to /token of a one-byte body, its head and body in one write.
const onePost = "POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"

// endsWithin reports whether ctx ends within d.
func endsWithin(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// TestPostsReadWholeGoToTheService: a POST to one of Posts whose body came with its head is
// answered by the Service on the fast path, and every other POST by net/http: to another path,
// with its body still on its way, or larger than the buffer.
func TestPostsReadWholeGoToTheService(t *testing.T) {
	svc := newPostService()
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	head := func(n int) string {
		return "POST /token HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
	}
	tests := []struct {
		name       string
		parts      []string
		wantPath   string
		wantBody   string
		wantCalled bool
	}{
		{"whole", []string{head(5) + "hello"}, "fast", "service hello", true},
		{"empty body", []string{head(0)}, "fast", "service ", true},
		{"another path", []string{"POST /other HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"}, "std", "POST /other hello", false},
		{"body after the head", []string{head(5), "hello"}, "std", "POST /token hello", false},
		{"body cut in two", []string{head(5) + "he", "llo"}, "std", "POST /token hello", false},
		{"body larger than the buffer", []string{head(3000) + strings.Repeat("b", 3000)}, "std", "POST /token " + strings.Repeat("b", 3000), false},
		{"chunked", []string{"POST /token HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}, "std", "POST /token hello", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := svc.calls.Load()
			cl := hs.dial(t)
			for i, p := range tc.parts {
				if i > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				cl.send(p)
			}
			path, status, body := cl.read("POST")
			if status != http.StatusOK || path != tc.wantPath || body != tc.wantBody {
				t.Fatalf("answer %d from %q: %q; want 200 from %q: %q", status, path, body, tc.wantPath, tc.wantBody)
			}
			if called := svc.calls.Load() > before; called != tc.wantCalled {
				t.Errorf("service called: %v, want %v", called, tc.wantCalled)
			}
		})
	}
}

// TestPostsKeepTheConnection: POSTs and GETs on the fast path follow each other on one
// connection, pipelined, each answered in order.
func TestPostsKeepTheConnection(t *testing.T) {
	svc := newPostService()
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	post := "POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"
	cl.send(post + "a1" + get + post + "a2")
	for _, want := range []struct{ method, path, body string }{{"POST", "fast", "service a1"}, {"GET", "fast", "fast "}, {"POST", "fast", "service a2"}} {
		path, status, body := cl.read(want.method)
		if status != http.StatusOK || path != want.path || body != want.body {
			t.Fatalf("answer %d from %q: %q; want 200 from %q: %q", status, path, body, want.path, want.body)
		}
	}
	if n := hs.std.Load(); n != 0 {
		t.Errorf("net/http answered %d requests", n)
	}
}

// TestPostContextEndsWithTheAnswer: the context the Service gets ends once its answer is
// done, as net/http's does, and not before.
func TestPostContextEndsWithTheAnswer(t *testing.T) {
	svc := newPostService()
	svc.hold = true
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	cl.send(onePost)
	ctx := <-svc.ctxs
	if err := ctx.Err(); err != nil {
		t.Fatalf("context ended while answering: %v", err)
	}
	if _, ok := ctx.Value(http.LocalAddrContextKey).(interface{ String() string }); !ok {
		t.Errorf("context holds no local address")
	}
	close(svc.release)
	if _, status, _ := cl.read("POST"); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if !endsWithin(ctx, 5*time.Second) {
		t.Fatal("context did not end after the answer")
	}
}

// TestPostAnswerDuringDrainClosesTheConnection: a POST answered once the drain began says
// "Connection: close" and is its connection's last.
func TestPostAnswerDuringDrainClosesTheConnection(t *testing.T) {
	svc := newPostService()
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	hs.fast.Drain()
	cl.send(onePost)
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if !resp.Close || resp.Header.Get("X-Path") != "fast" {
		t.Errorf("answer from %q closes: %v, want the fast path's, closing", resp.Header.Get("X-Path"), resp.Close)
	}
	if !cl.closed(5 * time.Second) {
		t.Error("connection still open after its last answer")
	}
}

// TestPostWriteTimeoutRunsFromTheRequest: as net/http's, the write timeout of a POST runs from
// when it was read, so a Service slower than it leaves no answer.
func TestPostWriteTimeoutRunsFromTheRequest(t *testing.T) {
	svc := newPostService()
	svc.hold = true
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout: 5 * time.Second, WriteTimeout: 100 * time.Millisecond})
	cl := hs.dial(t)
	cl.send(onePost)
	<-svc.ctxs
	time.Sleep(300 * time.Millisecond)
	close(svc.release)
	if !cl.closed(5 * time.Second) {
		t.Error("an answer came after the write timeout, or the connection stayed open")
	}
}

// TestPostContextEndsWhenTheClientHangsUp: as net/http's, the context of a Service answer
// under way ends when its client closes the connection, so that a request waiting on a store
// for a client that left ends its wait.
func TestPostContextEndsWhenTheClientHangsUp(t *testing.T) {
	svc := newPostService()
	svc.hold = true
	defer close(svc.release)
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	cl.send(onePost)
	ctx := <-svc.ctxs
	time.Sleep(2 * watchHangUpAfter)
	if err := ctx.Err(); err != nil {
		t.Fatalf("context ended while the client waits: %v", err)
	}
	_ = cl.c.Close()
	if !endsWithin(ctx, 5*time.Second) {
		t.Fatal("context did not end when the client hung up")
	}
}

// TestPostWatchLeavesTheNextRequest: bytes of the next request that come while a slow answer
// is under way are neither taken as a hang-up nor lost: both requests are answered in order.
func TestPostWatchLeavesTheNextRequest(t *testing.T) {
	svc := newPostService()
	svc.hold = true
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	post := "POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n"
	cl.send(post + "a1")
	ctx := <-svc.ctxs
	time.Sleep(2 * watchHangUpAfter)
	cl.send(post + "a2")
	time.Sleep(2 * watchHangUpAfter)
	close(svc.release)
	for _, want := range []string{"service a1", "service a2"} {
		if path, status, body := cl.read("POST"); status != http.StatusOK || path != "fast" || body != want {
			t.Fatalf("answer %d from %q: %q; want 200 from the fast path: %q", status, path, body, want)
		}
	}
	if ctx.Err() == nil {
		t.Error("the first answer's context did not end")
	}
	if ctx2 := <-svc.ctxs; ctx2.Err() == nil {
		t.Error("the second answer's context did not end")
	}
}
