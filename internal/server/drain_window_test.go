package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/issuer"
)

// holdingHandler is a log handler that holds the line of the drain's start until released
// (holding no lock: other lines go through meanwhile).
type holdingHandler struct {
	slog.Handler
	once    *sync.Once
	held    chan struct{}
	release chan struct{}
}

func (h holdingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "shutting down: finishing in-flight requests") {
		h.once.Do(func() { close(h.held) })
		<-h.release
	}
	return h.Handler.Handle(ctx, r)
}

func (h holdingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.Handler = h.Handler.WithAttrs(as)
	return h
}

func (h holdingHandler) WithGroup(g string) slog.Handler {
	h.Handler = h.Handler.WithGroup(g)
	return h
}

// TestDrainAnswersSayCloseFromItsFirstMoment: from the drain's first moment (held here on its
// first log line, before the draining server starts), every answer on the plain-HTTP listener
// is its connection's last and says "Connection: close": a health probe's and a token
// request's 503 (the fast path reads both) and a public document's 200 (the fast path answers
// it), as net/http's are once its keep-alives are off.
// Guards against: server.go:Serve calling fast.Drain only inside drain, after its first log
// line and the draining server's start, so that a 503 or a document answered meanwhile kept
// its connection alive, to be closed under the client by Drain.
func TestDrainAnswersSayCloseFromItsFirstMoment(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg, err := config.Parse("p.yaml", []byte("issuer: http://"+addr+"\nhttp: {shutdown_timeout: 3s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	hw := holdingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), once: &sync.Once{}, held: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, Options{Logger: slog.New(hw)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	released := sync.OnceFunc(func() { close(hw.release) })
	t.Cleanup(func() { cancel(); released(); <-done; _ = srv.Close() })

	d := drainTarget{dial: func() (net.Conn, error) { return net.Dial("tcp", addr) }}
	ask := func(raw string) *http.Response {
		resp, _, err := drainExchange(t, d, raw)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	probe := "GET /readyz HTTP/1.1\r\nHost: h\r\n\r\n"
	if r := ask(probe); r.StatusCode != http.StatusOK || r.Close {
		t.Fatalf("probe before the stop: %d, close %v", r.StatusCode, r.Close)
	}
	cancel()
	<-hw.held // the drain began: its first line is held
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"health probe", probe, http.StatusServiceUnavailable},
		{"token request", "POST " + api.TokenPath + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", http.StatusServiceUnavailable},
		{"JWKS", "GET " + issuer.JWKSPath + " HTTP/1.1\r\nHost: h\r\n\r\n", http.StatusOK},
	} {
		if r := ask(tc.raw); r.StatusCode != tc.status || !r.Close {
			t.Errorf("%s during the drain: %d, close %v; want %d saying Connection: close", tc.name, r.StatusCode, r.Close, tc.status)
		}
	}
}
