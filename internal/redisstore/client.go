package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/runs"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds each call when Options.Timeout is zero.
	DefaultTimeout = time.Second
	// DefaultPrefix starts every key when Options.Prefix is empty.
	DefaultPrefix = "broker:"
)

// dialAttempts is how often one connection attempt dials before it gives up (go-redis retries
// a refused dial after a short pause); the overall bound stays Options.Timeout.
const dialAttempts = 2

// ErrUnavailable wraps every failure to reach Redis: refused or broken connections, timeouts,
// a closed client, a pool with no free connection, and a server that is loading its data or
// otherwise refusing commands for now. Errors of the Runs and Limiter views wrap their
// package's own sentinel as well.
var ErrUnavailable = errors.New("redis unavailable")

// Options locate Redis and tune the client. Exactly one of URL, Sentinel and Cluster is set.
type Options struct {
	// URL is a redis:// or rediss:// URL of one server, as go-redis's ParseURL accepts it, for
	// example redis://user:password@redis.internal:6379/0. Timeouts and retries given in its
	// query are overridden by Timeout, and a pipeline pool size by the one pool every client
	// uses.
	URL string
	// URLAuth, when its Username or Password is set, logs in to the server of URL in place of
	// the URL's own user or password. Its TLS is unused: the URL's scheme decides.
	URLAuth Auth
	// Sentinel finds the primary through Redis Sentinel and follows it after a failover.
	Sentinel *Sentinel
	// Cluster spreads the keys over a Redis Cluster.
	Cluster *Cluster
	// Timeout bounds every call: dialing, reading, writing, waiting for a pooled connection and
	// the call as a whole. Zero means DefaultTimeout.
	Timeout time.Duration
	// Prefix starts every key, so several brokers (or tests) can share one database. Empty
	// means DefaultPrefix.
	Prefix string
}

// Auth is how the client logs in to the Redis servers holding the data and whether it talks
// TLS to them, for Sentinel and Cluster (a URL carries its own).
type Auth struct {
	// Username and Password log in with AUTH (Username empty: the default user).
	Username, Password string
	// TLS, when set, is the client's TLS configuration for every server (and Sentinel).
	TLS *tls.Config
}

// Sentinel locates a primary through Redis Sentinel.
type Sentinel struct {
	// Master is the name under which the Sentinels monitor the primary.
	Master string
	// Addrs are host:port addresses of Sentinels; any one that answers is enough.
	Addrs []string
	// DB is the database number on the primary.
	DB int
	// SentinelPassword, when set, logs in to the Sentinels themselves.
	SentinelPassword string
	Auth
}

// Cluster locates a Redis Cluster.
type Cluster struct {
	// Addrs are host:port addresses of some of its nodes; the client learns the rest.
	Addrs []string
	Auth
}

// Client is a connection pool to one Redis, a Sentinel-watched primary or a Redis Cluster,
// shared by the views it hands out (Runs, Keys, Limiter, Audit, Catalog). It is safe for
// concurrent use and reconnects by itself after an outage or a failover.
type Client struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	prefix  string
	// cluster: keys that one script or transaction uses together carry a shared hash tag.
	cluster bool
	// rt carries the token path's run lookups and audit appends in shared round trips.
	rt *roundTrips
	// poll decides when a connection polls for a round trip's reply.
	poll *replyPoll
	// runs keeps the runs read by token, for runs.Cache; nil on a Cluster, where a run and the
	// audit chain are in different slots and no script can check one while appending to the
	// other.
	runs *runCache
}

// Open returns a Client for opts. It does not connect: the first call does, and Ping checks
// reachability.
func Open(opts Options) (*Client, error) {
	modes := 0
	for _, set := range []bool{opts.URL != "", opts.Sentinel != nil, opts.Cluster != nil} {
		if set {
			modes++
		}
	}
	switch {
	case modes == 0:
		return nil, errors.New("redisstore: no redis URL, Sentinel or Cluster")
	case modes > 1:
		return nil, errors.New("redisstore: give only one of a redis URL, Sentinel and Cluster")
	case opts.Timeout < 0:
		return nil, fmt.Errorf("redisstore: timeout %s is negative", opts.Timeout)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	c := &Client{timeout: timeout, prefix: prefix, poll: &replyPoll{budget: pollBudget},
		runs: &runCache{m: map[runs.TokenHash]cachedRun{}}}
	c.rt = &roundTrips{c: c}
	switch {
	case opts.Sentinel != nil:
		rdb, err := openSentinel(*opts.Sentinel, timeout, c.poll)
		if err != nil {
			return nil, err
		}
		c.rdb = rdb
	case opts.Cluster != nil:
		rdb, err := openCluster(*opts.Cluster, timeout, c.poll)
		if err != nil {
			return nil, err
		}
		c.rdb, c.cluster = rdb, true
		c.runs = nil
	default:
		rdb, err := openURL(opts.URL, opts.URLAuth, timeout, c.poll)
		if err != nil {
			return nil, err
		}
		c.rdb = rdb
	}
	return c, nil
}

// Ping checks that Redis answers: in a cluster, every primary, since each holds some of
// broker's keys (a PING alone goes to one node). Its error wraps ErrUnavailable when Redis
// cannot be reached.
func (c *Client) Ping(ctx context.Context) error {
	cctx, cancel := c.bound(ctx)
	defer cancel()
	var err error
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(cctx, func(ctx context.Context, node *redis.Client) error { return node.Ping(ctx).Err() })
	} else {
		err = c.rdb.Ping(cctx).Err()
	}
	if err != nil {
		return c.fail(ctx, "ping", err)
	}
	return nil
}

// PollWhenSpare lets the token path's round trips poll for their replies while spare
// reports a core to spare (for the server: no signature running or waiting). Until it is
// called, or with nil, no connection polls.
func (c *Client) PollWhenSpare(spare func() bool) {
	if spare == nil {
		c.poll.spare.Store(nil)
		return
	}
	c.poll.spare.Store(&spare)
}

// Close closes the connection pool. Calls after Close fail with ErrUnavailable.
func (c *Client) Close() error { return c.rdb.Close() }

// Redis returns the underlying go-redis client, for inspection and administration.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Timeout returns the bound of each call.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Prefix returns the prefix of every key.
func (c *Client) Prefix() string { return c.prefix }

// key returns the full name of a key of the given kind ("run:", "keyset", ...) and suffix.
func (c *Client) key(kind, suffix string) string { return c.prefix + kind + suffix }

// group returns the part of a key name that puts the keys of group name in one hash slot of a
// Redis Cluster, "{name}:", so that a script or transaction may use them together. On one
// server or a Sentinel-watched primary it is empty: key names stay as older brokers wrote them.
func (c *Client) group(name string) string {
	if !c.cluster {
		return ""
	}
	return "{" + name + "}:"
}

// bound derives the context of one call: ctx, cut off after the client's timeout.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// fail describes err, the failure of operation op run under the caller's ctx (not the bounded
// one): it wraps ErrUnavailable when Redis could not be reached and ctx itself is not done
// (a caller that gave up gets its own context error back, not an outage).
func (c *Client) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil && Unavailable(err) {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// transientReplies are the prefixes of server replies that mean the server cannot serve broker
// now (until it has memory again, or its operators fix broker's credentials), rather than "no" to
// one request.
var transientReplies = []string{
	"LOADING",     // the server is loading its data set
	"BUSY",        // a script or function runs too long
	"MASTERDOWN",  // a replica lost its primary
	"READONLY",    // connected to a replica, for example during a failover
	"TRYAGAIN",    // a cluster slot moves
	"CLUSTERDOWN", // the cluster is down
	"MISCONF",     // the server refuses writes because it cannot persist
	"NOREPLICAS",  // min-replicas-to-write is not met, as right after a failover
	"OOM",         // maxmemory is reached and the server refuses writes
	"NOAUTH",      // the server asks for a password it was not given (set since broker connected)
	"WRONGPASS",   // the server no longer takes broker's user or password
	"NOPERM",      // the server's ACL no longer lets broker's user run the command or key
	"max number of clients reached",
}

// queuedCause is the reason of a transaction's EXECABORT: the error the server gave one of its
// queued commands (OOM, READONLY, NOREPLICAS, NOPERM, ...), which tells an outage from a
// refusal, as Unavailable reads it; err itself otherwise.
func queuedCause(cmds []redis.Cmder, err error) error {
	if !redis.HasErrorPrefix(err, "EXECABORT") {
		return err
	}
	for _, c := range cmds {
		if cerr := c.Err(); cerr != nil && !redis.HasErrorPrefix(cerr, "EXECABORT") {
			return cerr
		}
	}
	return err
}

// Unavailable reports whether err means that Redis could not be reached or could not serve the
// call for now: network errors, timeouts and deadlines, a closed client, pool timeouts and
// exhaustion, a dropped connection, and transient server replies such as LOADING. A missing
// key (redis.Nil), a failed transaction or any other server reply is not unavailability.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	if errors.Is(err, ErrUnavailable) ||
		errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := strings.TrimPrefix(rerr.Error(), "ERR ")
		// Redis 6.2 and older wrap the error of a command a script calls, keeping its reply
		// after the last ": -": "Error running script (call to f_<sha>): @user_script:N:
		// @user_script: N: -OOM command not allowed ...".
		if rest, ok := strings.CutPrefix(msg, "Error running script"); ok {
			if i := strings.LastIndex(rest, ": -"); i >= 0 {
				msg = rest[i+len(": -"):]
			}
		}
		for _, p := range transientReplies {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
	}
	return false
}
