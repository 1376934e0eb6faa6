package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestOnePool checks that the token path's pipelined calls (a run lookup, an audit append)
// take their connections from the pool plain commands use: made one after the other, a ping,
// a lookup and an append leave exactly one connection of broker's client on the server. With
// go-redis's dedicated pipeline pool, the lookup would open a second. (A Cluster client has
// no dedicated pipeline pool unless its buffer sizes are set.)
func TestOnePool(t *testing.T) {
	ctx := context.Background()
	t.Run("url", func(t *testing.T) {
		srv := redistest.Start(t)
		checkOnePool(ctx, t, redisstore.Options{URL: srv.URL()}, srv.Addr())
	})
	t.Run("sentinel", func(t *testing.T) {
		st := redistest.StartSentinel(t)
		checkOnePool(ctx, t, redisstore.Options{
			Sentinel: &redisstore.Sentinel{Master: redistest.MasterName, Addrs: st.Addrs()},
		}, st.Primary.Addr())
	})
}

// checkOnePool opens a client with opts, pings, looks a run up and appends an audit event
// through it one after the other, and counts the connections that appeared on addr.
func checkOnePool(ctx context.Context, t *testing.T, opts redisstore.Options, addr string) {
	t.Helper()
	before := map[string]bool{}
	for _, line := range clientList(ctx, t, addr) {
		before[strings.Fields(line)[0]] = true
	}
	client := openProtocolClient(t, opts)
	if err := client.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	run, token := newRun(t, runs.Tracked, time.Hour)
	if _, err := client.Runs().GetByToken(ctx, runs.HashToken(token)); err == nil {
		t.Fatalf("GetByToken of an unknown token succeeded")
	}
	if _, err := client.Audit().Append(ctx, tokenEvent("ev-1", run), []string{run.Space}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	var opened []string
	for _, line := range clientList(ctx, t, addr) {
		if !before[strings.Fields(line)[0]] {
			opened = append(opened, line)
		}
	}
	if len(opened) != 1 {
		t.Fatalf("broker's client has %d connections on %s, want 1:\n%s", len(opened), addr, strings.Join(opened, "\n"))
	}
}
