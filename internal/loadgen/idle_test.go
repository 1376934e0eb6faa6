package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIdleConnectionsStayOpenAndRefill(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	idle, err := OpenIdle(ctx, addr, "/healthz", 20)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if n := idle.Open(); n != 20 {
		t.Fatalf("%d of 20 connections open", n)
	}
	if n, err := idle.Refill(ctx); n != 0 || err != nil {
		t.Errorf("refill of open connections reopened %d (%v)", n, err)
	}
	srv.CloseClientConnections() // as the server's idle timeout would
	if n := idle.Open(); n != 0 {
		t.Errorf("%d connections still open after the server closed them all", n)
	}
	if n, err := idle.Refill(ctx); n != 20 || err != nil {
		t.Fatalf("refill reopened %d (%v), want 20", n, err)
	}
	if n := idle.Open(); n != 20 {
		t.Errorf("%d of 20 connections open after the refill", n)
	}

	if _, err := OpenIdle(ctx, addr, "/missing", 1); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a refused request: err = %v, want the status named", err)
	}
}
