package redisstore_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/redis/go-redis/v9"
)

// scriptReply is a server error reply, as go-redis hands it back.
type scriptReply string

func (r scriptReply) Error() string { return string(r) }

func (scriptReply) RedisError() {}

var _ redis.Error = scriptReply("")

// TestUnavailableInsideScript62: Redis 6.2 (the oldest server broker's PXAT allows) wraps
// the error of a command a Lua script calls as "ERR Error running script (call to f_<sha>):
// @user_script:N: @user_script: N: -<CODE> ...". A transient refusal inside a script (maxmemory
// reached, a replica after a failover, writes stopped for a failed save, too few replicas) is
// still unavailability, answered 503 as the same reply outside a script is, not a 500.
func TestUnavailableInsideScript62(t *testing.T) {
	const head = "ERR Error running script (call to f_8f55ae4a3be429c6d38c5d5db3e80edf89197b64): " +
		"@user_script:5: @user_script: 5: -"
	for _, c := range []struct {
		err  scriptReply
		want bool
	}{
		{head + "OOM command not allowed when used memory > 'maxmemory'. ", true},
		{head + "READONLY You can't write against a read only replica. ", true},
		{head + "MISCONF Errors writing to the AOF file: No space left on device ", true},
		{head + "NOREPLICAS Not enough good replicas to write. ", true},
		{"ERR Error running script (call to f_8f55): @user_script:5: " +
			"WRONGTYPE Operation against a key holding the wrong kind of value", false},
		{"ERR Error running script (call to f_8f55): @user_script:5: " +
			"user_script:5: attempt to compare nil with number", false},
	} {
		if got := redisstore.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%q) = %v, want %v", c.err, got, c.want)
		}
	}
}
