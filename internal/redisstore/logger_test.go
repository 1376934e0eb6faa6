package redisstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestClientMessagesReachTheLogger: what the Redis client itself reports, such as a pool that
// cannot dial, goes to the logger SetLogger names, as JSON lines of its log.
func TestClientMessagesReachTheLogger(t *testing.T) {
	var buf syncbuf.Buffer
	redisstore.SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { redisstore.SetLogger(slog.New(slog.DiscardHandler)) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded with nothing listening")
	}
	out := buf.String()
	if !strings.Contains(out, "redis client: ") {
		t.Fatalf("the client's messages did not reach the logger: %q", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] != "WARN" {
			t.Errorf("not a WARN line of the JSON log: %q", line)
		}
	}
}
