package redisstore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
	"github.com/redis/go-redis/v9"
)

// fakeInfoHook answers INFO with a settable text in place of the server, so that a memory
// setting a real Redis refuses (a policy this build does not know) can be seen by the client.
type fakeInfoHook struct {
	mu   sync.Mutex
	info string
}

func (h *fakeInfoHook) set(maxmemory, policy string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.info = "# Memory\r\nmaxmemory:" + maxmemory + "\r\nmaxmemory_policy:" + policy + "\r\n"
}

func (h *fakeInfoHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *fakeInfoHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		sc, ok := cmd.(*redis.StringCmd)
		if !ok || cmd.Name() != "info" {
			return next(ctx, cmd)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		sc.SetVal(h.info)
		return nil
	}
}

func (h *fakeInfoHook) ProcessPipelineHook(
	next redis.ProcessPipelineHook,
) redis.ProcessPipelineHook {
	return next
}

// fakeInfoClient returns a client whose INFO memory answers come from the returned hook;
// nothing else is asked of the (unreachable) server.
func fakeInfoClient(t *testing.T) (*redisstore.Client, *fakeInfoHook) {
	t.Helper()
	opts := redisstore.Options{URL: "redis://127.0.0.1:1/0", Timeout: suiteTimeout}
	c, err := redisstore.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h := &fakeInfoHook{}
	c.Redis().AddHook(h)
	return c, h
}

// TestUnknownPolicyIsUnchecked: a maxmemory-policy this build does not know is neither
// refused nor passed in silence at the start: one warning says the policy could not be checked
// and names the unknown policy, and broker starts.
// Guards against: CheckEvictionPolicy no longer adds an unknown policy to the unchecked servers.
func TestUnknownPolicyIsUnchecked(t *testing.T) {
	c, h := fakeInfoClient(t)
	h.set("1048576", "future-policy")
	logged, err := checkPolicy(c)
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	wants := []string{`"level":"WARN"`, "could not check the eviction policy", "future-policy"}
	for _, want := range wants {
		if !strings.Contains(logged, want) || strings.Count(logged, "\n") != 1 {
			t.Errorf("logged %q, want one warning mentioning %q", logged, want)
		}
	}
}

// TestWatchKeepsItsAnswerOnUnknownPolicy: a check that reads a policy this build does not
// know keeps the last answer: a watch that found allkeys-* stays Unsafe and logs nothing.
// Guards against: EvictionWatch.ask treats an unknown policy as evicting nothing.
func TestWatchKeepsItsAnswerOnUnknownPolicy(t *testing.T) {
	c, h := fakeInfoClient(t)
	h.set("1048576", "allkeys-lru")
	var buf syncbuf.Buffer
	w := c.WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	if !w.Unsafe() {
		t.Fatal("a watch opened on an allkeys-lru Redis is not Unsafe")
	}
	h.set("1048576", "future-policy")
	w.Check(context.Background())
	if !w.Unsafe() || buf.String() != "" {
		t.Errorf("unknown policy after allkeys-lru: Unsafe() = %v, logged %q; want true, nothing",
			w.Unsafe(), buf.String())
	}
}

// TestWatchRunChecksOnEachTick: Run checks the policy on every tick and returns when its
// context ends.
// Guards against: Run no longer calls Check on a tick.
func TestWatchRunChecksOnEachTick(t *testing.T) {
	c, h := fakeInfoClient(t)
	h.set("0", "noeviction")
	var buf syncbuf.Buffer
	w := c.WatchEviction(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time) // unbuffered: a second send waits for the first check
	done := make(chan struct{})
	go func() {
		w.Run(ctx, ticks)
		close(done)
	}()
	h.set("1048576", "allkeys-lru")
	ticks <- time.Time{}
	ticks <- time.Time{} // received only once the first tick's check has returned
	unsafe := w.Unsafe()
	cancel()
	<-done
	if !unsafe || !strings.Contains(buf.String(), `"level":"ERROR"`) {
		t.Errorf("after a tick on allkeys-lru: Unsafe() = %v, logged %q", unsafe, buf.String())
	}
}

// TestSingleServerNamesNoNodes: on one server (not a Cluster) the start's warning carries
// no "nodes" attribute: there is no node address to name.
// Guards against: nodesAttr adding the empty address of a single server.
func TestSingleServerNamesNoNodes(t *testing.T) {
	c, h := fakeInfoClient(t)
	h.set("1048576", "volatile-lru")
	logged, err := checkPolicy(c)
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	if !strings.Contains(logged, "volatile-lru") ||
		strings.Contains(logged, `"nodes"`) {
		t.Errorf("logged %q, want a volatile-lru warning without a nodes attribute", logged)
	}
}

// TestClusterNotReachedIsUnchecked: a Cluster whose nodes cannot be learned is not taken
// as a Cluster that evicts nothing: the start warns that the policy could not be checked.
// Guards against: memorySettings dropping the error of ForEachMaster.
func TestClusterNotReachedIsUnchecked(t *testing.T) {
	c, err := redisstore.Open(redisstore.Options{
		Cluster: &redisstore.Cluster{Addrs: []string{"127.0.0.1:1"}}, Timeout: outageTimeout,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	logged, err := checkPolicy(c)
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	if !strings.Contains(logged, "could not check the eviction policy") {
		t.Errorf("logged %q, want a warning that the policy could not be checked", logged)
	}
}

// TestClusterNodesInAddressOrder: on a Cluster the warning names the primaries in address
// order, so that one setting logs one way whatever order the nodes answered in.
// Guards against: memorySettings sorting the primaries in reverse.
func TestClusterNodesInAddressOrder(t *testing.T) {
	cl := cluster(t)
	for _, node := range cl.Nodes {
		setMemory(t, node.Client(), "100mb", "volatile-lru")
	}
	logged, err := checkPolicy(openCluster(t, cl, uniquePrefix()))
	if err != nil {
		t.Fatalf("CheckEvictionPolicy = %v, want nil", err)
	}
	var line struct{ Nodes []string }
	if err := json.Unmarshal([]byte(logged), &line); err != nil {
		t.Fatalf("logged %q: %v", logged, err)
	}
	if len(line.Nodes) != len(cl.Nodes) || !slices.IsSorted(line.Nodes) {
		t.Errorf("nodes %v, want all %d primaries in address order", line.Nodes, len(cl.Nodes))
	}
}
