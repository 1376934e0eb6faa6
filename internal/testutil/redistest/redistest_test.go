package redistest_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestLifeCycle(t *testing.T) {
	ctx := context.Background()
	s := redistest.Start(t)
	if s.PID() == 0 {
		t.Fatal("PID() = 0 for a running server")
	}
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	c := s.Client()
	if err := c.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	s.Stop()
	if s.PID() != 0 {
		t.Errorf("PID() = %d after Stop, want 0", s.PID())
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("PING succeeded while the server is stopped")
	}
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "before" {
		t.Fatalf("GET after Stop and Restart = %q, %v; want %q (AOF)", got, err, "before")
	}

	if err := c.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Kill()
	s.Restart()
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "after" {
		t.Fatalf("GET after Kill and Restart = %q, %v; want %q (AOF fsynced always)", got, err, "after")
	}
}
