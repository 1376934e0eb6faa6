package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/redis/go-redis/v9"
)

// reply is a server error reply, as go-redis reports them.
type reply string

func (r reply) Error() string { return string(r) }

func (reply) RedisError() {}

var _ redis.Error = reply("")

func TestUnavailable(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{redis.TxFailedErr, false},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{reply("ERR syntax error"), false},
		{errors.New("some logic error"), false},
		{dialErr, true},
		{fmt.Errorf("wrapped: %w", dialErr), true},
		{context.DeadlineExceeded, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{redis.ErrClosed, true},
		{redis.ErrPoolTimeout, true},
		{redis.ErrPoolExhausted, true},
		{reply("LOADING Redis is loading the dataset in memory"), true},
		{reply("BUSY Redis is busy running a script."), true},
		{reply("READONLY You can't write against a read only replica."), true},
		{reply("MISCONF Redis is configured to save RDB snapshots, but it's unable to persist"), true},
		{reply("NOREPLICAS Not enough good replicas to write."), true},
		{reply("ERR max number of clients reached"), true},
		{reply("OOM command not allowed when used memory > 'maxmemory'."), true},
		{reply("NOAUTH Authentication required."), true},
		{reply("WRONGPASS invalid username-password pair or user is disabled."), true},
		{reply("NOPERM User broker has no permissions to run the 'evalsha' command"), true},
		{redisstore.ErrUnavailable, true},
	} {
		if got := redisstore.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestUnavailableClusterAndReplicaReplies pins that the transient replies of a replica
// that lost its primary and of a Cluster that moves a slot or is down count as unavailability
// (a 503 the caller may retry), not as a refusal of the request.
// Guards against: "TRYAGAIN" dropped from transientReplies (client.go:Unavailable)
// Guards against: "MASTERDOWN" dropped from transientReplies (client.go:Unavailable)
// Guards against: "CLUSTERDOWN" dropped from transientReplies (client.go:Unavailable)
func TestUnavailableClusterAndReplicaReplies(t *testing.T) {
	for _, r := range []reply{
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
		"TRYAGAIN Multiple keys request during rehashing of slot",
		"CLUSTERDOWN The cluster is down",
		"CLUSTERDOWN Hash slot not served",
	} {
		if !redisstore.Unavailable(r) {
			t.Errorf("Unavailable(%q) = false, want true", string(r))
		}
	}
}
