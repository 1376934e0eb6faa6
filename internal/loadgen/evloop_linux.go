//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// errLoadClosed is the error of a run after Close.
var errLoadClosed = errors.New("the load is closed")

// maxWait bounds one wait for events, so the end of a run's context and requests past their
// timeout are noticed promptly.
const maxWait = 50 * time.Millisecond

// eventLoad is an HTTPLoad driven by one event loop: during a run, a single goroutine locked to
// its thread owns every connection, non-blocking, and an epoll instance. A request costs one
// write and, typically, one read, plus a share of one epoll wait for all connections; its
// bytes are built once and its answer parsed in the connection's own buffer, so a request
// allocates nothing.
type eventLoad struct {
	cfg   loadConfig
	check func(int, []byte) error
	// wire is the request as sent; sa and family are the address to dial; setupErr is why the
	// request could not be built or its address resolved.
	wire     []byte
	sa       unix.Sockaddr
	family   int
	setupErr error
	epfd     int
	conns    []evConn
	events   []unix.EpollEvent
	// noPwait2 is set when the kernel lacks epoll_pwait2: waits are then in milliseconds.
	noPwait2 bool
	// rawWait makes the wait for events a raw system call, which keeps the loop's P: the
	// runtime then neither hands the P off nor keeps its monitor thread polling it, a wakeup
	// of another thread every few requests otherwise. It is set only when another P runs the
	// process's other goroutines; the wait is bounded (maxWait) and a preemption signal
	// interrupts it (EINTR), so the collector never waits long for the loop.
	rawWait bool
	// hint is the latency capacity to reserve: the last run's rate × its length.
	hint float64

	// The state of the run in progress.
	res Result
	// idle holds the connections without a request; freed those whose request ended while
	// the current batch of events was handled (idle from the next turn of the loop).
	idle, freed []int
	inflight    int
}

// newEventLoad returns cfg's load driven by an event loop, or nil when the request is not
// plain http (TLS is left to the goroutine workers).
func newEventLoad(cfg loadConfig) HTTPLoad {
	addr, tlsName, wire, err := buildRequest(cfg.req)
	if err == nil && tlsName != "" {
		return nil
	}
	l := &eventLoad{cfg: cfg, check: cfg.req.Check, wire: wire, setupErr: err, epfd: -1}
	if l.check == nil {
		l.check = expectOK
	}
	if err == nil {
		l.sa, l.family, l.setupErr = resolve(addr)
	}
	if l.setupErr == nil {
		l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			l.setupErr = fmt.Errorf("epoll: %w", err)
		}
	}
	l.conns = make([]evConn, max(cfg.clients, 0))
	for i := range l.conns {
		l.conns[i] = evConn{id: i, fd: -1}
		l.conns[i].ans.reset()
	}
	l.events = make([]unix.EpollEvent, max(len(l.conns), 1))
	l.idle = make([]int, 0, len(l.conns))
	l.freed = make([]int, 0, len(l.conns))
	return l
}

// resolve returns the socket address of host:port.
func resolve(addr string) (unix.Sockaddr, int, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, 0, fmt.Errorf("resolve %s: %w", addr, err)
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	return sa, unix.AF_INET6, nil
}

// runPlan says which loop a run drives.
type runPlan struct {
	// open is set for a schedule of n requests at rate per second; else the loop is closed
	// and sends no request once d has passed.
	open bool
	rate float64
	n    int64
	d    time.Duration
}

// Closed runs the closed loop for d.
func (l *eventLoad) Closed(ctx context.Context, d time.Duration) Result {
	return l.run(ctx, runPlan{d: d})
}

// Open runs the schedule s.
func (l *eventLoad) Open(ctx context.Context, s Schedule) Result {
	return l.run(ctx, runPlan{open: true, rate: s.Rate, n: ScheduleLen(s.Rate, s.Duration), d: s.Duration})
}

// run drives the loop of plan until it is done or ctx ends.
func (l *eventLoad) run(ctx context.Context, plan runPlan) Result {
	if l.setupErr != nil {
		return Result{Errors: 1, FirstErr: l.wrap(l.setupErr)}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.rawWait = runtime.GOMAXPROCS(0) > 1
	want := int(min(l.hint*plan.d.Seconds(), 1<<20)) + 64
	if plan.open {
		want = int(min(plan.n, 1<<20))
	}
	l.res = Result{Latencies: make([]time.Duration, 0, want)}
	l.idle, l.freed, l.inflight = l.idle[:0], l.freed[:0], 0
	for i := range l.conns {
		l.idle = append(l.idle, i)
	}
	done := ctx.Done()
	start := time.Now()
	deadline := start.Add(plan.d)
	scan := start.Add(maxWait)
	var next int64 // the next request of an open loop's schedule
	for {
		select {
		case <-done:
			l.abort()
			l.res.Elapsed = time.Since(start)
			return l.res
		default:
		}
		now := time.Now()
		l.idle = append(l.idle, l.freed...)
		l.freed = l.freed[:0]
		wait := maxWait
		if plan.open {
			for next < plan.n && len(l.idle) > 0 {
				due := start.Add(Offset(next, plan.rate))
				if due.After(now) {
					wait = min(wait, due.Sub(now))
					break
				}
				l.send(l.popIdle(), due, now)
				next++
			}
			if next >= plan.n && l.inflight == 0 {
				break
			}
		} else if now.Before(deadline) {
			for len(l.idle) > 0 {
				l.send(l.popIdle(), now, now)
			}
		} else if l.inflight == 0 {
			break
		}
		if !now.Before(scan) {
			l.expire(now)
			scan = now.Add(maxWait)
		}
		if len(l.freed) > 0 {
			wait = 0 // a connection to use again before waiting
		}
		n, err := l.wait(wait)
		if err != nil {
			l.abort()
			l.record(fmt.Errorf("epoll wait: %w", err))
			break
		}
		for _, ev := range l.events[:n] {
			l.handle(ev)
		}
	}
	l.res.Elapsed = time.Since(start)
	if s := l.res.Elapsed.Seconds(); s > 0 {
		l.hint = float64(l.res.Count) * 1.25 / s
	}
	return l.res
}

// popIdle takes an idle connection.
func (l *eventLoad) popIdle() int {
	i := l.idle[len(l.idle)-1]
	l.idle = l.idle[:len(l.idle)-1]
	return i
}

// send starts a request on connection i, its latency counted from from.
func (l *eventLoad) send(i int, from, now time.Time) {
	c := &l.conns[i]
	c.from, c.retried = from, false
	c.ans.reset()
	l.inflight++
	if c.fd < 0 {
		l.dial(c, now)
		return
	}
	l.write(c, now)
}

// ending is how a request ends: with err nil when it succeeded, answered at, and its
// connection kept for the next request or closed.
type ending struct {
	at   time.Time
	keep bool
	err  error
}

// complete ends the request of c as end says: counted when it succeeded, else an error; the
// connection is closed unless kept.
func (l *eventLoad) complete(c *evConn, end ending) {
	if end.err != nil {
		l.record(end.err)
	} else {
		l.res.Count++
		l.res.Latencies = append(l.res.Latencies, end.at.Sub(c.from))
	}
	if end.keep {
		c.reused = true
	} else {
		l.closeConn(c)
	}
	c.state = connIdle
	l.inflight--
	l.freed = append(l.freed, c.id)
}

// fail ends the request of c with err and closes its connection.
func (l *eventLoad) fail(c *evConn, err error) { l.complete(c, ending{err: err}) }

// lost handles the connection of c ending (err) before any byte of the answer: a reused
// connection the server closed while idle is redialed once and the request sent again, as
// net/http does; otherwise the request fails.
func (l *eventLoad) lost(c *evConn, now time.Time, err error) {
	if c.reused && !c.retried && c.ans.n == 0 {
		l.closeConn(c)
		c.retried = true
		l.dial(c, now)
		return
	}
	l.fail(c, err)
}

// record counts the error err.
func (l *eventLoad) record(err error) {
	l.res.Errors++
	if l.res.FirstErr == nil {
		l.res.FirstErr = l.wrap(err)
	}
}

// wrap names the request in err.
func (l *eventLoad) wrap(err error) error {
	return fmt.Errorf("%s %s: %w", l.cfg.req.Method, l.cfg.req.URL, err)
}

// expire fails every request older than the timeout.
func (l *eventLoad) expire(now time.Time) {
	for i := range l.conns {
		c := &l.conns[i]
		if c.state == connIdle || now.Sub(c.since) < l.cfg.timeout {
			continue
		}
		if c.state == connDialing {
			l.fail(c, fmt.Errorf("connect: no connection within %s: %w", l.cfg.timeout, os.ErrDeadlineExceeded))
		} else {
			l.fail(c, fmt.Errorf("no answer within %s: %w", l.cfg.timeout, os.ErrDeadlineExceeded))
		}
	}
}

// abort drops every request in flight, uncounted, and closes their connections: an answer
// arriving later must not be taken for the next run's.
func (l *eventLoad) abort() {
	for i := range l.conns {
		if c := &l.conns[i]; c.state != connIdle {
			l.closeConn(c)
			c.state = connIdle
		}
	}
	l.inflight = 0
	l.freed = l.freed[:0]
}

// Close closes every connection and the epoll instance.
func (l *eventLoad) Close() {
	for i := range l.conns {
		l.closeConn(&l.conns[i])
		l.conns[i].state = connIdle
	}
	if l.epfd >= 0 {
		unix.Close(l.epfd)
		l.epfd = -1
	}
	l.setupErr = errLoadClosed
}
