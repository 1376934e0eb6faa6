package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestPlainTextRedisStaysOnTheHost: a client without TLS dials loopback hosts only, whatever
// address it is handed (a Sentinel's primary, a cluster's node, or a URL). 0.0.0.0 reaches this
// host's Redis, yet names no loopback host, so it stands here for a primary off the host: the
// dial is refused before any packet leaves, as ErrUnavailable naming the address and never the
// password, while the same server on 127.0.0.1 and localhost answers.
func TestPlainTextRedisStaysOnTheHost(t *testing.T) {
	srv := redistest.Start(t)
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		want error
	}{
		{"127.0.0.1", nil},
		{"localhost", nil},
		{"0.0.0.0", redisstore.ErrUnavailable},
	} {
		t.Run(tc.host, func(t *testing.T) {
			auth := ""
			if tc.want != nil {
				auth = ":hunter2-secret@"
			}
			c, err := redisstore.Open(redisstore.Options{
				URL:     "redis://" + auth + net.JoinHostPort(tc.host, port) + "/0",
				Timeout: 2 * time.Second, Prefix: uniquePrefix(),
			})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			if err := pingAs(c, tc.host, tc.want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPlainTextSentinelPrimaryStaysOnTheHost: a Sentinel on loopback, the only address the
// configuration holds, that names its primary at an address off loopback (0.0.0.0 here, which
// reaches this host's primary) gets no plain-text connection to it: the store is unavailable,
// naming the address. The same primary named at 127.0.0.1 is used.
func TestPlainTextSentinelPrimaryStaysOnTheHost(t *testing.T) {
	primary := redistest.Start(t)
	for _, tc := range []struct {
		host string
		want error
	}{
		{"127.0.0.1", nil},
		{"0.0.0.0", redisstore.ErrUnavailable},
	} {
		t.Run(tc.host, func(t *testing.T) {
			sentinel := redistest.StartLoneSentinel(t, primary, tc.host)
			c, err := redisstore.Open(redisstore.Options{
				Sentinel: &redisstore.Sentinel{Master: redistest.MasterName, Addrs: []string{sentinel.Addr()}},
				Timeout:  2 * time.Second, Prefix: uniquePrefix(),
			})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			if err := pingAs(c, tc.host, tc.want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// pingAs pings c's Redis, reached at host, and reports how the answer differs from want: nil
// for a reply, else an error that is want, names host and never repeats a password.
func pingAs(c *redisstore.Client, host string, want error) error {
	err := c.Ping(context.Background())
	switch {
	case want == nil && err != nil:
		return fmt.Errorf("Ping of the Redis at %s: %w", host, err)
	case want == nil:
		return nil
	case !errors.Is(err, want) || !strings.Contains(fmt.Sprint(err), host):
		return fmt.Errorf("Ping of the Redis at %s: %v; want %w naming the address", host, err, want)
	case strings.Contains(err.Error(), "hunter2"):
		return fmt.Errorf("the refusal repeats the password: %w", err)
	}
	return nil
}
