package redisstore_test

import (
	"context"
	"errors"
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
			err = c.Ping(context.Background())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Ping over loopback: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.host) {
				t.Fatalf("Ping to %s: %v; want %v naming the address", tc.host, err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the refusal repeats the password: %v", err)
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
			err = c.Ping(context.Background())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Ping of the primary the Sentinel names at %s: %v", tc.host, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.host) {
				t.Fatalf("Ping of the primary the Sentinel names at %s: %v; want %v naming the address", tc.host, err, tc.want)
			}
		})
	}
}
