package fastpath

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// slowService reads the body, hands over its context, then waits for the context to end, or
// for 3.5 s: an answer waiting on a store for a client that may leave.
func slowService(ctxs chan<- context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		ctxs <- r.Context()
		select {
		case <-r.Context().Done():
		case <-time.After(3500 * time.Millisecond):
		}
	})
}

// TestHangUpAfterHeadDeadlineEndsContext: a client hanging up at any time during a slow
// answer ends its request's context, however long after read_header_timeout, as net/http's
// watch (which runs under no read deadline) ends it.
// Guards against: hangup.go:watch waiting under the head's read deadline, so that once
// read_header_timeout from the request's start had passed the watch ended silently.
func TestHangUpAfterHeadDeadlineEndsContext(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	hs := start(t, Config{Service: slowService(ctxs), Posts: []string{"/token"}, ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	cl.send(onePost)
	ctx := <-ctxs
	time.Sleep(300 * time.Millisecond) // the answer is slow: past read_header_timeout
	if err := ctx.Err(); err != nil {
		t.Fatalf("context ended while the client waits: %v", err)
	}
	_ = cl.c.Close()
	if !endsWithin(ctx, 3*time.Second) {
		t.Fatal("context did not end when the client hung up after read_header_timeout had passed")
	}
}

// TestClosedConnectionEndsContext: a busy connection closed by the listener, by Shutdown when
// its context ends or by CutBusy, ends the context of its request under way, as
// http.Server.Close ends net/http's; CutBusy leaves the listener accepting.
// Guards against: hangup.go:watch taking a read that failed on a closed connection for no
// hang-up, leaving the handler running with a live context after its connection was gone.
func TestClosedConnectionEndsContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(t *testing.T, l *Listener)
	}{
		{"Shutdown", func(t *testing.T, l *Listener) {
			sctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := l.Shutdown(sctx); err == nil {
				t.Fatal("Shutdown returned nil with a request in flight")
			}
		}},
		{"CutBusy", func(_ *testing.T, l *Listener) { l.CutBusy() }},
		{"CutBusy within the first milliseconds", func(_ *testing.T, l *Listener) { l.CutBusy() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxs := make(chan context.Context, 1)
			hs := start(t, Config{Service: slowService(ctxs), Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
			idle := hs.dial(t)
			idle.send(get)
			if path, _, _ := idle.read("GET"); path != "fast" {
				t.Fatalf("GET answered from %q", path)
			}
			cl := hs.dial(t)
			cl.send(onePost)
			ctx := <-ctxs
			if tc.name != "CutBusy within the first milliseconds" {
				time.Sleep(4 * watchHangUpAfter) // the watch is under way
			}
			tc.cut(t, hs.fast)
			if !cl.closed(2 * time.Second) {
				t.Fatal("the busy connection was not closed")
			}
			if !endsWithin(ctx, 2*time.Second) {
				t.Fatal("connection closed, but its request's context did not end")
			}
			if tc.name == "Shutdown" {
				return
			}
			if idle.closed(50 * time.Millisecond) {
				t.Error("CutBusy closed an idle connection")
			}
			next := hs.dial(t)
			next.send(get)
			if path, _, _ := next.read("GET"); path != "fast" {
				t.Errorf("after CutBusy a new connection's GET was answered from %q", path)
			}
		})
	}
}

// TestContextOutlivesReadTimeoutAsNetHTTP: the context of a request whose answer outlasts
// read_timeout stays live past it, behind the fast path as behind net/http alone (whose watch
// for a hang-up clears the read deadline), on a new connection and on a kept-alive one; a
// hang-up after it still ends the context.
func TestContextOutlivesReadTimeoutAsNetHTTP(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	serve := map[string]func(t *testing.T, svc http.Handler) string{
		"net/http alone": func(t *testing.T, svc http.Handler) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: svc, ReadTimeout: readTimeout, IdleTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })
			return ln.Addr().String()
		},
		"fast path": func(t *testing.T, svc http.Handler) string {
			return start(t, Config{Service: svc, Posts: []string{"/token"}, ReadTimeout: readTimeout, IdleTimeout: 5 * time.Second}).addr
		},
	}
	for name, listen := range serve {
		t.Run(name, func(t *testing.T) {
			ctxs := make(chan context.Context, 1)
			release := make(chan struct{})
			addr := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				ctxs <- r.Context()
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			cl := &client{t: t, c: c, br: bufio.NewReader(c)}
			for i := range 2 {
				sent := time.Now()
				cl.send(onePost)
				ctx := <-ctxs
				time.Sleep(3 * readTimeout)
				if err := ctx.Err(); err != nil {
					t.Fatalf("request %d: context ended within %v, read_timeout %v: %v", i+1, time.Since(sent), readTimeout, err)
				}
				if i == 1 {
					_ = c.Close()
					if !endsWithin(ctx, 3*time.Second) {
						t.Fatal("the client hung up past read_timeout, but its request's context did not end")
					}
					return
				}
				release <- struct{}{}
				if _, status, _ := cl.read("POST"); status != http.StatusOK {
					t.Fatalf("request %d: status %d", i+1, status)
				}
			}
		})
	}
}
