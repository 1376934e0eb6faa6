package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// setMemory sets maxmemory and maxmemory-policy on the server rc talks to.
func setMemory(t *testing.T, rc *redis.Client, maxmemory, policy string) {
	t.Helper()
	ctx := context.Background()
	if err := rc.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory-policy %s: %v", policy, err)
	}
	if err := rc.ConfigSet(ctx, "maxmemory", maxmemory).Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory %s: %v", maxmemory, err)
	}
}

// checkPolicy runs CheckEvictionPolicy on c and returns what it logged and its error.
func checkPolicy(c *redisstore.Client) (string, error) {
	var buf syncbuf.Buffer
	err := c.CheckEvictionPolicy(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	return buf.String(), err
}

// TestCheckEvictionPolicy: a Redis that may evict keys without an expiry (maxmemory with an
// allkeys-* policy) is refused with an error naming the setting and the fix; a volatile-* policy
// is a warning; noeviction, or no maxmemory whatever the policy, passes without a word.
func TestCheckEvictionPolicy(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	tests := []struct {
		maxmemory, policy string
		// wantErr lists substrings of the error; none means no error.
		wantErr []string
		// wantWarn is a substring of the one warning logged; empty means nothing logged.
		wantWarn string
	}{
		{"100mb", "allkeys-lru", []string{"maxmemory 104857600", "maxmemory-policy allkeys-lru", "audit chain", "maxmemory-policy noeviction", "volatile-"}, ""},
		{"100mb", "allkeys-lfu", []string{"maxmemory-policy allkeys-lfu"}, ""},
		{"100mb", "allkeys-random", []string{"maxmemory-policy allkeys-random"}, ""},
		{"0", "allkeys-lru", nil, ""},
		{"100mb", "volatile-lru", nil, "runs and run tokens"},
		{"100mb", "volatile-ttl", nil, "runs and run tokens"},
		{"0", "volatile-lru", nil, ""},
		{"100mb", "noeviction", nil, ""},
		{"0", "noeviction", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.policy+" maxmemory "+tt.maxmemory, func(t *testing.T) {
			setMemory(t, rc, tt.maxmemory, tt.policy)
			logged, err := checkPolicy(open(t, srv, uniquePrefix(), suiteTimeout))
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
			}
			if len(tt.wantErr) > 0 {
				if !errors.Is(err, redisstore.ErrEvictsAnyKey) {
					t.Fatalf("CheckEvictionPolicy = %v, want ErrEvictsAnyKey", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
			}
			switch {
			case tt.wantWarn == "" && logged != "":
				t.Errorf("logged %q, want nothing", logged)
			case tt.wantWarn != "" && (!strings.Contains(logged, tt.wantWarn) || strings.Count(logged, "\n") != 1 ||
				!strings.Contains(logged, `"level":"WARN"`) || !strings.Contains(logged, tt.policy)):
				t.Errorf("logged %q, want one warning mentioning %q and %s", logged, tt.wantWarn, tt.policy)
			}
		})
	}
}

// TestCheckEvictionPolicyNotAllowed: a user whose ACL forbids INFO (as a managed Redis may)
// gets a warning that the policy could not be checked, and no error, even when the policy
// would be refused: broker starts on a Redis that will not say.
func TestCheckEvictionPolicyNotAllowed(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	setMemory(t, rc, "100mb", "allkeys-lru")
	if err := rc.Do(context.Background(), "ACL", "SETUSER", "noinfo", "on", ">secret", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	c, err := redisstore.Open(redisstore.Options{URL: "redis://noinfo:secret@" + srv.Addr() + "/0", Timeout: suiteTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logged, err := checkPolicy(c)
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	for _, w := range []string{`"level":"WARN"`, "could not check the eviction policy", "NOPERM"} {
		if !strings.Contains(logged, w) {
			t.Errorf("logged %q, want it to mention %q", logged, w)
		}
	}
}

// TestCheckEvictionPolicyUnreachable: a Redis that cannot be reached is a warning, not an error
// (the views report the outage when they need Redis).
func TestCheckEvictionPolicyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + addr + "/0", Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logged, err := checkPolicy(c)
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	if !strings.Contains(logged, "could not check the eviction policy") || !strings.Contains(logged, "redis unavailable") {
		t.Errorf("logged %q, want a warning that the policy could not be checked, Redis unavailable", logged)
	}
}

// TestCheckEvictionPolicyCluster: on a Cluster every primary is asked, and one primary with an
// allkeys-* policy refuses, named by its address; volatile-* primaries are one warning.
func TestCheckEvictionPolicyCluster(t *testing.T) {
	c := cluster(t)
	client := openCluster(t, c, uniquePrefix())

	logged, err := checkPolicy(client)
	if err != nil || logged != "" {
		t.Fatalf("default policy: CheckEvictionPolicy = %v, logged %q; want nil, nothing", err, logged)
	}

	for _, node := range c.Nodes[1:] {
		setMemory(t, node.Client(), "100mb", "volatile-lfu")
	}
	logged, err = checkPolicy(client)
	if err != nil {
		t.Fatalf("volatile-lfu on two primaries: CheckEvictionPolicy = %v, want nil", err)
	}
	if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "volatile-lfu") ||
		!strings.Contains(logged, c.Nodes[1].Addr()) || !strings.Contains(logged, c.Nodes[2].Addr()) {
		t.Errorf("volatile-lfu on two primaries: logged %q, want one warning naming both", logged)
	}

	last := c.Nodes[len(c.Nodes)-1]
	setMemory(t, last.Client(), "100mb", "allkeys-lru")
	_, err = checkPolicy(client)
	if !errors.Is(err, redisstore.ErrEvictsAnyKey) || !strings.Contains(err.Error(), last.Addr()) {
		t.Fatalf("allkeys-lru on %s: CheckEvictionPolicy = %v, want ErrEvictsAnyKey naming the node", last.Addr(), err)
	}
}

// TestCheckEvictionPolicySentinel: through Sentinel the primary is asked, not its replica.
func TestCheckEvictionPolicySentinel(t *testing.T) {
	st := redistest.StartSentinel(t)
	setMemory(t, st.Replica.Client(), "100mb", "noeviction")
	setMemory(t, st.Primary.Client(), "100mb", "allkeys-lfu")
	_, err := checkPolicy(openSentinel(t, st, uniquePrefix()))
	if !errors.Is(err, redisstore.ErrEvictsAnyKey) || !strings.Contains(err.Error(), "allkeys-lfu") {
		t.Fatalf("allkeys-lfu on the primary: CheckEvictionPolicy = %v, want ErrEvictsAnyKey", err)
	}
}
