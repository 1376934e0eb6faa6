package redisstore

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/config"
)

// Busy-polling for a reply. A round trip to a Redis on the same host or network answers in
// tens of microseconds, but a thread that sleeps waiting for it costs more than that: the kernel
// parks it, and the reply must wake it, and its core, again. On a virtual machine a sleeping
// core is woken through the hypervisor, so at moderate load those wake-ups cost a good part of
// a token's CPU and add their latency to it. So while a round trip of the token path is on its
// way and the process has a spare core (no signature running or waiting), the connection reads
// the socket without blocking, in a loop, for up to pollBudget before it waits as usual. When
// the signatures need the cores, nothing polls. A reply that takes longer than the budget (a
// distant Redis) is a miss: each miss counts one up and each hit one down, and once the count
// reaches missLimit the client polls only one round trip in retryEvery until a hit brings it
// down, so a network too slow for polling costs a few polls in a hundred.
const (
	// pollBudget is how long a read polls before it waits for the reply as usual.
	pollBudget = 150 * time.Microsecond
	// missLimit is how many polls in a row may run out of budget before the client stops
	// polling but for a probe now and then.
	missLimit = 8
	// retryEvery is how often, after missLimit misses, a round trip polls anyway, to find out
	// whether replies have become fast again.
	retryEvery = 64
)

// replyPoll decides when the connections of one Client poll for a reply.
type replyPoll struct {
	// budget bounds each poll.
	budget time.Duration
	// spare reports whether the process has a core to spare for a poll; nil means never.
	spare atomic.Pointer[func() bool]
	// want is set while a round trip of the token path waits for its reply.
	want atomic.Bool
	// misses counts the polls that ran out of budget, less those answered within it, between
	// 0 and missLimit.
	misses atomic.Int32
	// skipped counts the round trips not polled since the misses reached missLimit.
	skipped atomic.Uint32
	// hits counts the polls answered within the budget (for tests).
	hits atomic.Uint64
}

// allowed reports whether a read that finds no reply yet should poll for it: while a round
// trip of the token path waits (want), the process has a core to spare, and recent replies came
// within the budget (or this is a periodic probe after misses).
func (p *replyPoll) allowed() bool {
	if !p.want.Load() {
		return false
	}
	f := p.spare.Load()
	if f == nil || !(*f)() {
		return false
	}
	if p.misses.Load() < missLimit {
		return true
	}
	return p.skipped.Add(1)%retryEvery == 0
}

// hit records a poll that got its reply within the budget: one miss off the count, so the count
// reaches missLimit only when most replies are slow.
func (p *replyPoll) hit() {
	p.hits.Add(1)
	if m := p.misses.Load(); m > 0 {
		p.misses.CompareAndSwap(m, m-1)
	}
}

// miss records a poll whose reply did not come within the budget: one miss more on the count.
func (p *replyPoll) miss() {
	if m := p.misses.Load(); m < missLimit {
		p.misses.CompareAndSwap(m, m+1)
	}
}

// dialerFor returns the dialer of a client with tlsConfig and timeout: go-redis's own, whose
// connections poll for replies while p wants it; nil (go-redis's own, unwrapped) when the client
// talks TLS, since a TLS client does not poll. A client without TLS dials loopback hosts and
// Unix sockets only (see plainTextAllowed).
func (p *replyPoll) dialerFor(tlsConfig *tls.Config, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if tlsConfig != nil {
		return nil
	}
	dial := redis.NewDialer(&redis.Options{DialTimeout: timeout})
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := plainTextAllowed(network, addr); err != nil {
			return nil, err
		}
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return p.wrap(conn), nil
	}
}

// wrap returns conn as a pollConn of p, or conn itself when it has no raw descriptor to poll.
func (p *replyPoll) wrap(conn net.Conn) net.Conn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return conn
	}
	return &pollConn{Conn: conn, raw: raw, poll: p}
}

// pollConn is a connection that polls for a reply while its replyPoll wants it.
type pollConn struct {
	net.Conn
	raw  syscall.RawConn
	poll *replyPoll
}

// SyscallConn returns the raw connection, which go-redis uses to check a pooled connection
// before it hands it out.
func (c *pollConn) SyscallConn() (syscall.RawConn, error) { return c.raw, nil }

// Read reads as net.Conn does; while a poll is wanted it first reads without blocking, in a
// loop, for up to the poll's budget.
func (c *pollConn) Read(b []byte) (int, error) {
	if len(b) == 0 || !c.poll.want.Load() {
		return c.Conn.Read(b)
	}
	var (
		n      int
		rerr   error
		got    bool
		polled bool
	)
	err := c.raw.Read(func(fd uintptr) bool {
		var until time.Time
		for {
			n, rerr = syscall.Read(int(fd), b)
			if rerr != syscall.EAGAIN && rerr != syscall.EINTR {
				got = true
				return true
			}
			switch {
			case !polled:
				// No reply yet: poll only if that is allowed now.
				if !c.poll.allowed() {
					return true
				}
				polled, until = true, time.Now().Add(c.poll.budget)
			case time.Now().After(until):
				return true
			}
		}
	})
	if err != nil {
		// The descriptor refused the raw read (closed, or past its deadline): the plain read
		// returns the error as net.Conn words it.
		return c.Conn.Read(b)
	}
	switch {
	case polled && got:
		c.poll.hit()
	case polled:
		c.poll.miss()
	}
	if !got {
		// Out of budget: wait as usual, with the connection's deadlines.
		return c.Conn.Read(b)
	}
	switch {
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// plainTextAllowed refuses a plain-text connection off the host. The configuration allows
// Redis without TLS on loopback addresses only, but the addresses a client dials are not all
// in it: a Sentinel names the primary and a cluster node names the others, and either may
// name a host elsewhere, where the password and every run record would cross the network in
// clear and anyone on the path could write the store. Such a dial fails as ErrUnavailable
// (the store cannot be reached safely) naming the address, before any packet is sent.
func plainTextAllowed(network, addr string) error {
	if network == "unix" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !config.IsLoopbackHost(host) {
		return fmt.Errorf("%w: refusing plain-text redis to %q: off a loopback host redis needs TLS", ErrUnavailable, addr)
	}
	return nil
}
