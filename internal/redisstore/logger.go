package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends the Redis client's own messages (a pool that cannot dial, a Sentinel
// switching primaries) to l as warnings, so that they are lines of the server's log in its
// format, not plain text written to stderr beside it. The client's logger is one for the
// process: the last call wins.
func SetLogger(l *slog.Logger) {
	redis.SetLogger(clientLog{l})
}

// clientLog is the Redis client's logger over slog.
type clientLog struct{ l *slog.Logger }

func (c clientLog) Printf(ctx context.Context, format string, v ...any) {
	c.l.WarnContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
