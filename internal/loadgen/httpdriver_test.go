package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenAnswer is an answer expectToken accepts.
const tokenAnswer = `{"token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","expiresAt":"2030-01-01T00:00:00Z"}`

// countingServer starts an httptest server running h and counts the connections it accepts.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// rawAnswer answers with the given bytes on the hijacked connection and closes it.
func rawAnswer(raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer c.Close()
		io.WriteString(c, raw)
	}
}

func TestHTTPWorker(t *testing.T) {
	token := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" || r.Header.Get("Authorization") != "Bearer rt" ||
			r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len(body)) || string(body) != `{"audience":"a"}` {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		io.WriteString(w, tokenAnswer)
	}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		calls     int
		wantErr   string // "" for none; else in every call's error
		wantConns int64
	}{
		{name: "keep-alive reuse", handler: token, calls: 20, wantConns: 1},
		{name: "Connection: close answer", calls: 5, wantConns: 5, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			token(w, r)
		}},
		{name: "non-200 answer", calls: 3, wantErr: "status 503", wantConns: 1, handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}},
		{name: "200 without a token", calls: 2, wantErr: "no token", wantConns: 1, handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"error":"none"}`)
		}},
		{name: "truncated body", calls: 3, wantErr: "answer cut after 5 of 100 bytes", wantConns: 3,
			handler: rawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")},
		{name: "no Content-Length", calls: 2, wantErr: "without a Content-Length", wantConns: 2,
			handler: rawAnswer("HTTP/1.1 200 OK\r\n\r\n" + tokenAnswer)},
		{name: "chunked answer", calls: 2, wantErr: "Transfer-Encoding", wantConns: 2, handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, tokenAnswer)
			w.(http.Flusher).Flush()
		}},
		{name: "not HTTP", calls: 1, wantErr: "malformed HTTP answer", wantConns: 1, handler: rawAnswer("SSH-2.0-OpenSSH\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, conns := countingServer(t, tt.handler)
			req := HTTPRequest{
				Method: http.MethodPost, URL: srv.URL + "/v1/token",
				Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer rt"}},
				Body:   []byte(`{"audience":"a"}`), Check: expectToken,
			}
			ws := NewHTTPWorkers(1, req)
			defer CloseWorkers(ws)
			for i := range tt.calls {
				err := ws[0].Do(context.Background())
				switch {
				case tt.wantErr == "" && err != nil:
					t.Fatalf("call %d: %v", i, err)
				case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
					t.Fatalf("call %d: error %v, want one with %q", i, err, tt.wantErr)
				}
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("%d connections for %d calls, want %d", got, tt.calls, tt.wantConns)
			}
		})
	}
}

func TestHTTPWorkerGetChecksBody(t *testing.T) {
	doc := []byte(`{"keys":[]}`)
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.ContentLength != 0 {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Write(doc)
	})
	good := NewHTTPWorkers(1, HTTPRequest{Method: http.MethodGet, URL: srv.URL + "/jwks", Check: expectBody(doc)})
	bad := NewHTTPWorkers(1, HTTPRequest{Method: http.MethodGet, URL: srv.URL + "/jwks", Check: expectBody([]byte(`{}`))})
	defer CloseWorkers(good)
	defer CloseWorkers(bad)
	if err := good[0].Do(context.Background()); err != nil {
		t.Fatalf("GET of the expected document: %v", err)
	}
	if err := bad[0].Do(context.Background()); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("GET of another document: error %v, want one saying it differs", err)
	}
}

func TestHTTPWorkerRedialsAConnectionClosedWhileIdle(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tokenAnswer) })
	ws := NewHTTPWorkers(1, HTTPRequest{Method: http.MethodPost, URL: srv.URL, Body: []byte(`{}`), Check: expectToken})
	defer CloseWorkers(ws)
	for i := range 3 {
		if err := ws[0].Do(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		srv.CloseClientConnections()
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

func TestHTTPWorkerStopsWhenTheContextEnds(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	ws := NewHTTPWorkers(1, HTTPRequest{Method: http.MethodGet, URL: srv.URL})
	defer CloseWorkers(ws)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { done <- ws[0].Do(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want one wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request was not interrupted when its context ended")
	}
}

func TestHTTPWorkerRejectsABadRequest(t *testing.T) {
	for _, req := range []HTTPRequest{
		{Method: http.MethodGet, URL: "ftp://example.com/x"},
		{Method: http.MethodGet, URL: "http://127.0.0.1:1/x", Header: http.Header{"X": {"a\r\nInjected: 1"}}},
	} {
		ws := NewHTTPWorkers(1, req)
		if err := ws[0].Do(context.Background()); err == nil {
			t.Errorf("%s %v: no error", req.URL, req.Header)
		}
	}
}
