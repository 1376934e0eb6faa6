package fastpath

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHandler answers GET and HEAD of /doc with a fixed body, declines every other path, and
// on /slow waits for release before answering.
type fakeHandler struct {
	answered atomic.Int32
	slow     chan struct{} // closed by the test to let /slow answer
	entered  chan struct{} // receives when /slow starts waiting
}

func (f *fakeHandler) Answer(dst []byte, req *Request) ([]byte, bool) {
	switch string(req.Path) {
	case "/slow":
		f.entered <- struct{}{}
		<-f.slow
	case "/doc":
	case "/panic":
		panic("boom")
	default:
		return dst, false
	}
	f.answered.Add(1)
	body := "fast " + string(req.IfNoneMatch)
	dst = AppendStatusLine(dst, http.StatusOK)
	dst = AppendDate(dst, time.Now())
	dst = append(dst, "Content-Length: "+strconv.Itoa(len(body))+"\r\nX-Path: fast\r\n\r\n"...)
	if !req.Head {
		dst = append(dst, body...)
	}
	return dst, true
}

// harness is an http.Server serving through a Listener; net/http's handler answers "slow "
// or "std " with the method, path and body it read.
type harness struct {
	addr   string
	fast   *Listener
	srv    *http.Server
	h      *fakeHandler
	std    atomic.Int32
	served chan error
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{addr: inner.Addr().String(), h: &fakeHandler{slow: make(chan struct{}), entered: make(chan struct{}, 1)}, served: make(chan error, 1)}
	cfg.Handler = hs.h
	hs.fast = Listen(inner, cfg)
	hs.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hs.std.Add(1)
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Path", "std")
			_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, IdleTimeout: cfg.IdleTimeout, WriteTimeout: cfg.WriteTimeout,
	}
	go func() { hs.served <- hs.srv.Serve(hs.fast) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.fast.Shutdown(ctx)
		_ = hs.srv.Shutdown(ctx)
	})
	return hs
}

// client is one raw connection to the harness.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (hs *harness) dial(t *testing.T) *client {
	t.Helper()
	c, err := net.Dial("tcp", hs.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (cl *client) send(raw string) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, raw); err != nil {
		cl.t.Fatal(err)
	}
}

// read reads one answer to a request of method and returns its X-Path, status and body.
func (cl *client) read(method string) (path string, status int, body string) {
	cl.t.Helper()
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: method})
	if err != nil {
		cl.t.Fatalf("read answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		cl.t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Date") == "" {
		cl.t.Errorf("answer without Date")
	}
	return resp.Header.Get("X-Path"), resp.StatusCode, string(b)
}

// closed reports whether the server closed the connection within d.
func (cl *client) closed(d time.Duration) bool {
	_ = cl.c.SetReadDeadline(time.Now().Add(d))
	_, err := cl.br.ReadByte()
	return errors.Is(err, io.EOF)
}

const get = "GET /doc HTTP/1.1\r\nHost: h\r\n\r\n"

func TestFastAndHandedOffRequests(t *testing.T) {
	tests := []struct {
		name, raw, method string
		wantPath, body    string
		wantStatus        int
	}{
		{"GET of a fast path", get, "GET", "fast", "fast ", 200},
		{"HEAD of a fast path", "HEAD /doc HTTP/1.1\r\nHost: h\r\n\r\n", "HEAD", "fast", "", 200},
		{"If-None-Match reaches the handler", "GET /doc HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n", "GET", "fast", `fast "e"`, 200},
		{"the handler declines", "GET /other HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "std", "GET /other ", 200},
		{"POST with a body", "POST /doc HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", "POST", "std", "POST /doc hello", 200},
		{"POST with a body larger than the buffer", "POST /doc HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("p", 100000), "POST", "std", "POST /doc " + strings.Repeat("p", 100000), 200},
		{"query", "GET /doc?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "std", "GET /doc?x=1 ", 200},
		{"bare LF, which net/http accepts", "GET /doc HTTP/1.1\nHost: h\n\n", "GET", "std", "GET /doc ", 200},
		{"a head longer than the buffer", "GET /doc HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("b", 3*bufferSize) + "\r\n\r\n", "GET", "std", "GET /doc ", 200},
		{"a malformed request line goes to net/http before the head ends", "BAD\r\n", "GET", "", "", 400},
		{"no Host: net/http's 400", "GET /doc HTTP/1.1\r\n\r\n", "GET", "", "", 400},
		{"two Hosts: net/http's 400", "GET /doc HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET", "", "", 400},
	}
	hs := start(t, Config{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast, std := hs.h.answered.Load(), hs.std.Load()
			cl := hs.dial(t)
			cl.send(tc.raw)
			path, status, body := cl.read(tc.method)
			if status != tc.wantStatus || path != tc.wantPath || (tc.wantStatus == 200 && body != tc.body) {
				t.Fatalf("answer %d from %q: %q; want %d from %q: %q", status, path, body, tc.wantStatus, tc.wantPath, tc.body)
			}
			fastN, stdN := hs.h.answered.Load()-fast, hs.std.Load()-std
			if (tc.wantPath == "fast") != (fastN == 1) || (tc.wantPath == "std") != (stdN == 1) {
				t.Errorf("fast path answered %d, net/http %d", fastN, stdN)
			}
		})
	}
}

func TestPipelinedRequestsKeepTheirOrderAcrossTheHandOff(t *testing.T) {
	hs := start(t, Config{})
	cl := hs.dial(t)
	cl.send(get + get + "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" + get +
		"GET /doc HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	want := []struct{ path, body string }{
		{"fast", "fast "}, {"fast", "fast "}, {"std", "POST /x abc"}, {"std", "GET /doc "}, {"std", "GET /doc "},
	}
	for i, w := range want {
		path, status, body := cl.read("GET")
		if status != 200 || path != w.path || body != w.body {
			t.Fatalf("answer %d: %d from %q: %q; want 200 from %q: %q", i, status, path, body, w.path, w.body)
		}
	}
	if !cl.closed(5 * time.Second) {
		t.Error("connection open after Connection: close")
	}
}

func TestKeepAliveAcrossManyFastRequests(t *testing.T) {
	hs := start(t, Config{IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	for i := range 50 {
		cl.send(get)
		if path, status, _ := cl.read("GET"); path != "fast" || status != 200 {
			t.Fatalf("request %d: %d from %q", i, status, path)
		}
	}
	if n := hs.h.answered.Load(); n != 50 {
		t.Errorf("fast path answered %d, want 50", n)
	}
}

func TestTimeouts(t *testing.T) {
	const short = 200 * time.Millisecond
	for name, cfg := range map[string]Config{
		"idle connection closes after IdleTimeout":               {IdleTimeout: short, ReadHeaderTimeout: 5 * time.Second},
		"ReadTimeout bounds idle waits when IdleTimeout is zero": {ReadTimeout: short},
	} {
		t.Run(name, func(t *testing.T) {
			cl := start(t, cfg).dial(t)
			cl.send(get)
			cl.read("GET")
			if !cl.closed(5 * time.Second) {
				t.Fatal("idle connection not closed")
			}
		})
	}
	t.Run("partial head closes after ReadHeaderTimeout", func(t *testing.T) {
		hs := start(t, Config{IdleTimeout: 5 * time.Second, ReadHeaderTimeout: short})
		cl := hs.dial(t)
		cl.send("GET /doc HTTP/1.1\r\nHo")
		if !cl.closed(5 * time.Second) {
			t.Fatal("connection with a partial head not closed")
		}
	})
	t.Run("a new connection's first head is bounded from the connection's start", func(t *testing.T) {
		const bound = time.Second
		hs := start(t, Config{ReadHeaderTimeout: bound, IdleTimeout: time.Minute})
		cl := hs.dial(t)
		start := time.Now()
		time.Sleep(bound * 8 / 10)
		cl.send("GET /doc HTTP/1.1\r\n")
		if !cl.closed(5 * time.Second) {
			t.Fatal("connection with a partial head not closed")
		}
		// Bounded again from the first byte, it would close at 1.8 s.
		if took := time.Since(start); took > bound*14/10 {
			t.Errorf("closed %v after the connection opened, want about %v", took, bound)
		}
	})
	t.Run("a head handed to net/http keeps the fast path's bound", func(t *testing.T) {
		const bound = time.Second
		hs := start(t, Config{ReadHeaderTimeout: bound, IdleTimeout: time.Minute})
		cl := hs.dial(t)
		start := time.Now()
		cl.send("POST /x HTT")
		time.Sleep(bound * 8 / 10)
		cl.send("P/1.1\r\nHost: h\r\n") // now net/http's, its head still unfinished
		if !cl.closed(5 * time.Second) {
			t.Fatal("connection with a partial head not closed")
		}
		// With a bound of its own from the hand-off, net/http would close it at 1.8 s.
		if took := time.Since(start); took > bound*14/10 {
			t.Errorf("closed %v after the connection opened, want about %v", took, bound)
		}
	})
	for name, cfg := range map[string]Config{
		"silent new connection closes after ReadHeaderTimeout":                      {ReadHeaderTimeout: short},
		"ReadTimeout bounds a new connection's head when ReadHeaderTimeout is zero": {ReadTimeout: short},
	} {
		t.Run(name, func(t *testing.T) {
			if !start(t, cfg).dial(t).closed(5 * time.Second) {
				t.Fatal("silent connection not closed")
			}
		})
	}
	t.Run("no timeout keeps the connection", func(t *testing.T) {
		hs := start(t, Config{})
		cl := hs.dial(t)
		cl.send(get)
		cl.read("GET")
		if cl.closed(3 * short) {
			t.Fatal("connection closed without a timeout")
		}
	})
}

func TestShutdown(t *testing.T) {
	hs := start(t, Config{})
	idle := hs.dial(t)
	idle.send(get)
	idle.read("GET")
	busy := hs.dial(t)
	busy.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-hs.h.entered

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- hs.fast.Shutdown(ctx) }()
	srvDone := make(chan error, 1)
	go func() { srvDone <- hs.srv.Shutdown(ctx) }()
	if !idle.closed(5 * time.Second) {
		t.Fatal("idle connection not closed by Shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(hs.h.slow)
	if path, status, _ := busy.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("in-flight request answered %d from %q", status, path)
	}
	if !busy.closed(5 * time.Second) {
		t.Fatal("busy connection not closed after its answer")
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-srvDone; err != nil {
		t.Fatalf("http.Server Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", hs.addr, time.Second); err == nil {
		t.Error("listener still accepts after Shutdown")
	}
	if err := <-hs.served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
	}
}

func TestShutdownClosesBusyConnectionsWhenItsContextEnds(t *testing.T) {
	hs := start(t, Config{})
	busy := hs.dial(t)
	busy.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-hs.h.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := hs.fast.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the context's deadline", err)
	}
	close(hs.h.slow)
	if !busy.closed(5 * time.Second) {
		t.Fatal("busy connection not closed")
	}
}

// TestShutdownClosesAConnectionMidwayThroughALaterHead: a kept-alive connection that has sent
// part of its next request's head is idle, as net/http counts it: Shutdown closes it at once
// instead of waiting for the head timeout, which would come out of the shutdown's time for
// draining the audit sinks. The request was never whole, so nothing answered is lost.
func TestShutdownClosesAConnectionMidwayThroughALaterHead(t *testing.T) {
	hs := start(t, Config{ReadHeaderTimeout: 3 * time.Second, IdleTimeout: 10 * time.Second})
	cl := hs.dial(t)
	cl.send(get)
	cl.read("GET")
	cl.send("GET /doc HTTP/1.1\r\nHo")
	time.Sleep(50 * time.Millisecond) // the fast path reads the partial head
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := hs.fast.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Shutdown took %v with a half-sent head on a kept-alive connection, want it closed at once", took)
	}
	if !cl.closed(5 * time.Second) {
		t.Error("the connection with a half-sent head is still open after Shutdown")
	}
}

func TestHandedOffConnectionsAreNetHTTPs(t *testing.T) {
	hs := start(t, Config{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post("http://"+hs.addr+"/t", "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if string(b) != "POST /t x" {
				t.Errorf("answer %q", b)
			}
		}()
	}
	wg.Wait()
	if n := hs.std.Load(); n != 20 {
		t.Errorf("net/http answered %d, want 20", n)
	}
}

func TestHandlerPanicClosesOnlyItsConnection(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	hs := start(t, Config{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	cl := hs.dial(t)
	cl.send("GET /panic HTTP/1.1\r\nHost: h\r\n\r\n")
	if !cl.closed(5 * time.Second) {
		t.Fatal("connection open after a panic")
	}
	other := hs.dial(t)
	other.send(get)
	if path, status, _ := other.read("GET"); path != "fast" || status != 200 {
		t.Fatalf("after a panic: %d from %q", status, path)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "panic") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
