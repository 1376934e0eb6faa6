package redistest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel timing. Sentinel declares the primary down after sentinelDownAfter without an
// answer and then fails over; the waits are generous so that a loaded machine running the
// tests under -race still meets them.
const (
	// MasterName is the name under which the Sentinels of StartSentinel monitor the primary.
	MasterName = "broker-primary"
	// sentinelDownAfter is the Sentinels' down-after-milliseconds.
	sentinelDownAfter = 1000 * time.Millisecond
	// sentinelFailoverTimeout is the Sentinels' failover-timeout.
	sentinelFailoverTimeout = 5 * time.Second
	// topologyTimeout bounds the wait for replicas, Sentinels or cluster nodes to find each
	// other.
	topologyTimeout = 60 * time.Second
	// sentinelCount is how many Sentinels StartSentinel runs; a quorum of 2 agrees on a failure.
	sentinelCount  = 3
	sentinelQuorum = 2
)

// Sentinel is a primary, one replica of it and three Sentinels monitoring them under
// MasterName, every process on a free loopback port of its own.
type Sentinel struct {
	t testing.TB
	// host is the primary's host in the Sentinels' configuration ("" for 127.0.0.1).
	host string
	// Primary is the server the Sentinels first monitor; Replica replicates it.
	Primary, Replica *Server
	// Sentinels are the redis-sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts a primary, a replica and three Sentinels (quorum 2, down after 1 s,
// failover timeout 5 s) and waits until the replica is in sync and every Sentinel knows the
// replica and the other Sentinels, so that a failover can start as soon as the primary dies.
// It skips the test when redis-server or redis-sentinel is missing (fails it when
// BROKER_REQUIRE_REDIS is 1). Everything is stopped when the test ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	sbin := lookPath(t, "redis-sentinel")
	st := &Sentinel{t: t, Primary: Start(t)}
	st.Replica = StartWith(t, Config{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(st.Primary.port)}})
	rc := st.Replica.Client()
	st.waitFor("the replica's link to the primary", func(ctx context.Context) error {
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica not in sync yet")
		}
		return nil
	})
	for range sentinelCount {
		st.Sentinels = append(st.Sentinels, st.startSentinel(sbin))
	}
	st.waitFor("the Sentinels to know the replica and each other", func(ctx context.Context) error {
		for _, s := range st.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), DialTimeout: 2 * time.Second})
			replicas, err := c.Replicas(ctx, MasterName).Result()
			if err == nil && len(replicas) < 1 {
				err = fmt.Errorf("sentinel %s knows no replica", s.Addr())
			}
			var peers []map[string]string
			if err == nil {
				peers, err = c.Sentinels(ctx, MasterName).Result()
			}
			if err == nil && len(peers) < sentinelCount-1 {
				err = fmt.Errorf("sentinel %s knows %d other sentinels", s.Addr(), len(peers))
			}
			_ = c.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	return st
}

// StartLoneSentinel starts one Sentinel, on a free loopback port, that monitors primary under
// MasterName and names it at host and primary's port: 0.0.0.0, say, which reaches this host yet
// is no loopback address, as a primary off the host would be named. It waits for nothing (the
// Sentinel names the primary as soon as it answers) and stops when the test ends.
func StartLoneSentinel(t testing.TB, primary *Server, host string) *Server {
	t.Helper()
	st := &Sentinel{t: t, host: host, Primary: primary}
	return st.startSentinel(lookPath(t, "redis-sentinel"))
}

// Addrs returns the Sentinels' host:port addresses.
func (st *Sentinel) Addrs() []string {
	out := make([]string, len(st.Sentinels))
	for i, s := range st.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// Master returns the address the Sentinels currently give for MasterName, or an error.
func (st *Sentinel) Master(ctx context.Context) (string, error) {
	var last error
	for _, s := range st.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), DialTimeout: 2 * time.Second})
		addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		_ = c.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names the primary: %w", last)
}

// startSentinel writes a Sentinel configuration (Sentinel rewrites it as it learns the
// topology) and starts redis-sentinel on it.
func (st *Sentinel) startSentinel(bin string) *Server {
	t := st.t
	t.Helper()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), logName: "sentinel.log"}
	conf := filepath.Join(s.dir, "sentinel.conf")
	s.args = func(port int) []string {
		text := strings.Join([]string{
			"port " + strconv.Itoa(port),
			"bind 127.0.0.1",
			"daemonize no",
			"dir " + s.dir,
			"logfile " + filepath.Join(s.dir, s.logName),
			fmt.Sprintf("sentinel monitor %s %s %d %d", MasterName, cmp.Or(st.host, "127.0.0.1"), st.Primary.port, sentinelQuorum),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", MasterName, sentinelDownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s %d", MasterName, sentinelFailoverTimeout.Milliseconds()),
			"sentinel parallel-syncs " + MasterName + " 1",
		}, "\n") + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatalf("redistest: write sentinel.conf: %v", err)
		}
		return []string{conf}
	}
	s.start()
	return s
}

// waitFor calls check until it succeeds, failing the test after topologyTimeout.
func (st *Sentinel) waitFor(what string, check func(context.Context) error) {
	st.t.Helper()
	waitFor(st.t, what, check)
}

// waitFor calls check until it succeeds, failing t with check's last error after
// topologyTimeout.
func waitFor(t testing.TB, what string, check func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(topologyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: waited %s for %s: %v", topologyTimeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
