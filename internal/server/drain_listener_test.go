package server

import (
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestSharedListenerHandsOverBetweenViews: closing one view ends that view's Accept with
// net.ErrClosed and leaves the listener accepting for another view; closing the listener ends
// every view's Accept and refuses new connections.
func TestSharedListenerHandsOverBetweenViews(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := share(ln, slog.New(slog.DiscardHandler))
	defer s.Close()
	first, second := s.view(), s.view()
	_ = first.Close()
	if _, err := first.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed view: %v, want net.ErrClosed", err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial after a view closed: %v", err)
	}
	defer c.Close()
	got := make(chan net.Conn, 1)
	go func() {
		sc, err := second.Accept()
		if err != nil {
			t.Errorf("Accept on the open view: %v", err)
		}
		got <- sc
	}()
	select {
	case sc := <-got:
		if sc != nil {
			_ = sc.Close()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the open view got no connection")
	}
	_ = s.Close()
	if _, err := second.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after the listener closed: %v, want net.ErrClosed", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		_ = c.Close()
		t.Error("the listener still accepts after Close")
	}
}
