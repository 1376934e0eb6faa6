package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// protocol is the RESP version broker speaks unless a redis URL names one (?protocol=3):
// RESP2. broker uses no RESP3 feature (its Pub/Sub has a connection of its own), and with RESP3
// the client looks for push notifications before every reply, a fifth of the CPU of a
// one-script run lookup.
const protocol = 2

// onePool is the PipelinePoolSize of every client: negative, so that pipelines take their
// connections from the main pool, as plain commands do. The token path pipelines every run
// lookup and audit batch (see roundTrips), a few kilobytes at a time, for which go-redis's
// dedicated pipeline pool, with its 128 KiB buffers per connection, is made for bulk loads;
// and with one pool, a pipelined call and a plain one find the same connections after a
// failover, instead of each pool recovering on its own.
const onePool = -1

// noMaintNotifications turns off the client's handling of a managed service's maintenance
// notifications, which needs RESP3 push messages.
func noMaintNotifications() *maintnotifications.Config {
	return &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// openURL returns a client of the one server url names, every call bounded by timeout, whose
// connections poll for replies as poll decides.
func openURL(raw string, auth Auth, timeout time.Duration, poll *replyPoll) (*redis.Client, error) {
	ro, err := redis.ParseURL(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redisstore: invalid redis URL: %w", err)
	}
	if auth.Username != "" {
		ro.Username = auth.Username
	}
	if auth.Password != "" {
		ro.Password = auth.Password
	}
	ro.DialTimeout = timeout
	ro.ReadTimeout = timeout
	ro.WriteTimeout = timeout
	ro.PoolTimeout = timeout
	ro.MaxRetries = 1
	ro.DialerRetries = dialAttempts
	ro.ContextTimeoutEnabled = true
	if ro.Protocol == 0 {
		ro.Protocol = protocol
	}
	ro.MaintNotificationsConfig = noMaintNotifications()
	ro.PipelinePoolSize = onePool
	ro.Dialer = poll.dialerFor(ro.TLSConfig, timeout)
	return redis.NewClient(ro), nil
}

// shared returns the options the Sentinel and Cluster clients share: every call bounded by
// timeout, one retry, RESP2 and no maintenance notifications. (A URL client gets the same from
// openURL, over what its URL says.) The universal options have no PipelinePoolSize: the
// callers set onePool on the options they derive.
func shared(timeout time.Duration) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		DialTimeout:              timeout,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		PoolTimeout:              timeout,
		MaxRetries:               1,
		DialerRetries:            dialAttempts,
		ContextTimeoutEnabled:    true,
		Protocol:                 protocol,
		MaintNotificationsConfig: noMaintNotifications(),
	}
}

// openSentinel returns a client of the primary the Sentinels of s name. On a failover it
// learns the new primary from the Sentinels and reconnects there on its own.
func openSentinel(s Sentinel, timeout time.Duration, poll *replyPoll) (*redis.Client, error) {
	if s.Master == "" {
		return nil, errors.New("redisstore: sentinel: no master name")
	}
	if len(s.Addrs) == 0 {
		return nil, errors.New("redisstore: sentinel: no sentinel address")
	}
	o := shared(timeout)
	o.MasterName, o.Addrs, o.SentinelPassword = s.Master, s.Addrs, s.SentinelPassword
	o.DB, o.Username, o.Password, o.TLSConfig = s.DB, s.Username, s.Password, s.TLS
	fo := o.Failover()
	fo.PipelinePoolSize = onePool
	fo.Dialer = poll.dialerFor(fo.TLSConfig, timeout)
	return redis.NewFailoverClient(fo), nil
}

// openCluster returns a client of the Redis Cluster some of whose nodes c names. It follows
// slot moves (MOVED, ASK) and learns new nodes on its own.
func openCluster(c Cluster, timeout time.Duration, poll *replyPoll) (*redis.ClusterClient, error) {
	if len(c.Addrs) == 0 {
		return nil, errors.New("redisstore: cluster: no node address")
	}
	o := shared(timeout)
	o.Addrs, o.Username, o.Password, o.TLSConfig = c.Addrs, c.Username, c.Password, c.TLS
	co := o.Cluster()
	co.PipelinePoolSize = onePool
	co.Dialer = poll.dialerFor(co.TLSConfig, timeout)
	return redis.NewClusterClient(co), nil
}
