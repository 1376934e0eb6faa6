package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// checkerName names the connections TestProtocol inspects the servers with.
const checkerName = "protocol-checker"

// TestProtocol checks the RESP version broker's connections speak, in every mode: RESP2 unless
// the redis URL names another (?protocol=3).
func TestProtocol(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	for _, c := range []struct {
		name, query, want string
	}{
		{"url", "", "resp=2"},
		{"url naming protocol 3", "?protocol=3", "resp=3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkResp(ctx, t, redisstore.Options{URL: srv.URL() + c.query}, []string{srv.Addr()}, c.want)
		})
	}
	t.Run("sentinel", func(t *testing.T) {
		st := redistest.StartSentinel(t)
		checkResp(ctx, t, redisstore.Options{
			Sentinel: &redisstore.Sentinel{Master: redistest.MasterName, Addrs: st.Addrs()},
		}, []string{st.Primary.Addr()}, "resp=2")
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t, clusterNodes)
		checkResp(ctx, t, redisstore.Options{Cluster: &redisstore.Cluster{Addrs: cl.Addrs()}}, cl.Addrs(), "resp=2")
	})
}

// openProtocolClient opens a client with opts, closed when t ends.
func openProtocolClient(t *testing.T, opts redisstore.Options) *redisstore.Client {
	t.Helper()
	opts.Timeout, opts.Prefix = suiteTimeout, uniquePrefix()
	client, err := redisstore.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// checkResp reads CLIENT LIST on every server of addrs, opens a client with opts and pings
// through it, and reads CLIENT LIST again: the connections that appeared (other than the
// checker's own) are the client's, and each must show want (resp=N). At least one must appear.
func checkResp(ctx context.Context, t *testing.T, opts redisstore.Options, addrs []string, want string) {
	t.Helper()
	before := map[string]bool{}
	for _, addr := range addrs {
		for _, line := range clientList(ctx, t, addr) {
			before[addr+" "+strings.Fields(line)[0]] = true
		}
	}
	client := openProtocolClient(t, opts)
	if err := client.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	found := 0
	for _, addr := range addrs {
		for _, line := range clientList(ctx, t, addr) {
			if before[addr+" "+strings.Fields(line)[0]] {
				continue
			}
			found++
			if !strings.Contains(" "+line+" ", " "+want+" ") {
				t.Errorf("%s: a connection of broker's client: want %s, got %s", addr, want, line)
			}
		}
	}
	if found == 0 {
		t.Fatalf("no connection of broker's client on %v", addrs)
	}
}

// clientList returns the lines of CLIENT LIST on addr but the checker's own connection.
func clientList(ctx context.Context, t *testing.T, addr string) []string {
	t.Helper()
	checker := redis.NewClient(&redis.Options{Addr: addr, ClientName: checkerName, DialTimeout: 2 * time.Second})
	defer checker.Close()
	list, err := checker.ClientList(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST on %s: %v", addr, err)
	}
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		if line != "" && !strings.Contains(" "+line+" ", " name="+checkerName+" ") {
			out = append(out, line)
		}
	}
	return out
}
