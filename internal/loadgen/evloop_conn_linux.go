//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connState is where a connection of the event loop stands.
type connState uint8

const (
	// connIdle has no request (its socket may be open or closed).
	connIdle connState = iota
	// connDialing waits for its socket to connect, then sends its request.
	connDialing
	// connSending has written part of its request and waits to write the rest.
	connSending
	// connAwaiting has sent its request and reads the answer.
	connAwaiting
)

// evConn is one connection of the event loop.
type evConn struct {
	id int
	// fd is the socket, -1 when closed; gen counts the sockets opened, and each epoll event
	// carries it, so an event of a socket closed earlier in the same batch is ignored.
	fd    int
	gen   uint32
	state connState
	// reused is set once the socket has answered a request; retried once the request in
	// flight was sent again on a new socket.
	reused, retried bool
	// wrote is how many bytes of the request are written; wantOut whether epoll watches for
	// room to write the rest.
	wrote   int
	wantOut bool
	// from is when the request's latency counts from; since when its dial or send started.
	from, since time.Time
	ans         answer
}

// dial opens a non-blocking socket for c and connects it; the request is sent once it is.
func (l *eventLoad) dial(c *evConn, now time.Time) {
	c.since = now
	fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.fail(c, fmt.Errorf("connect: %w", err))
		return
	}
	c.fd, c.reused, c.wantOut = fd, false, false
	c.gen++
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		l.fail(c, fmt.Errorf("connect: %w", err))
		return
	}
	err = unix.Connect(fd, l.sa)
	switch {
	case err == nil:
		if err := l.watch(c, unix.EPOLL_CTL_ADD, unix.EPOLLIN); err != nil {
			l.fail(c, err)
			return
		}
		l.write(c, now)
	case errors.Is(err, unix.EINPROGRESS):
		c.state = connDialing
		if err := l.watch(c, unix.EPOLL_CTL_ADD, unix.EPOLLOUT); err != nil {
			l.fail(c, err)
		}
	default:
		l.fail(c, fmt.Errorf("connect: %w", err))
	}
}

// connected finishes the dial of c, once epoll says its socket is writable.
func (l *eventLoad) connected(c *evConn, now time.Time) {
	soErr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && soErr != 0 {
		err = unix.Errno(soErr)
	}
	if err != nil {
		l.fail(c, fmt.Errorf("connect: %w", err))
		return
	}
	if err := l.watch(c, unix.EPOLL_CTL_MOD, unix.EPOLLIN); err != nil {
		l.fail(c, err)
		return
	}
	l.write(c, now)
}

// watch adds or modifies c's socket in epoll, for events.
func (l *eventLoad) watch(c *evConn, op int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(c.id), Pad: int32(c.gen)}
	if err := unix.EpollCtl(l.epfd, op, c.fd, &ev); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	return nil
}

// write sends c's request.
func (l *eventLoad) write(c *evConn, now time.Time) {
	c.since, c.wrote, c.state = now, 0, connSending
	l.writeMore(c, now)
}

// writeMore writes what is left of c's request; when the socket is full it waits for room.
func (l *eventLoad) writeMore(c *evConn, now time.Time) {
	for c.wrote < len(l.wire) {
		k, err := unix.Write(c.fd, l.wire[c.wrote:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if !c.wantOut {
				if err := l.watch(c, unix.EPOLL_CTL_MOD, unix.EPOLLIN|unix.EPOLLOUT); err != nil {
					l.fail(c, err)
					return
				}
				c.wantOut = true
			}
			return
		case err != nil:
			l.lost(c, now, fmt.Errorf("send: %w", err))
			return
		}
		c.wrote += k
	}
	if c.wantOut {
		if err := l.watch(c, unix.EPOLL_CTL_MOD, unix.EPOLLIN); err != nil {
			l.fail(c, err)
			return
		}
		c.wantOut = false
	}
	c.state = connAwaiting
}

// handle acts on one epoll event.
func (l *eventLoad) handle(ev unix.EpollEvent) {
	c := &l.conns[ev.Fd]
	if c.fd < 0 || uint32(ev.Pad) != c.gen {
		return // a socket closed earlier in this batch
	}
	now := time.Now()
	switch c.state {
	case connDialing:
		l.connected(c, now)
	case connSending:
		if ev.Events&unix.EPOLLOUT != 0 {
			l.writeMore(c, now)
		}
		if c.state == connSending && ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			l.read(c, now) // the server answered early or closed
		}
	case connAwaiting:
		l.read(c, now)
	case connIdle:
		l.drop(c)
	}
}

// read reads what arrived of c's answer, and completes the request when it is whole.
func (l *eventLoad) read(c *evConn, now time.Time) {
	k, err := unix.Read(c.fd, c.ans.space())
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil || k == 0:
		if err == nil {
			err = io.EOF
		}
		if c.ans.n == 0 {
			l.lost(c, now, c.ans.cut(err))
		} else {
			l.fail(c, c.ans.cut(err))
		}
		return
	}
	done, err := c.ans.advance(k)
	switch {
	case err != nil:
		l.fail(c, err)
	case done:
		l.complete(c, ending{at: now, keep: c.ans.keep, err: l.check(c.ans.status, c.ans.body())})
	}
}

// drop closes an idle connection that became readable: the server closed it (its idle timeout)
// or sent bytes no request asked for.
func (l *eventLoad) drop(c *evConn) {
	l.closeConn(c)
}

// closeConn closes c's socket, if open (which also removes it from epoll).
func (l *eventLoad) closeConn(c *evConn) {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// wait waits up to d for events and returns how many arrived in l.events, with epoll_pwait2
// (a nanosecond timeout, so an open loop sends on time) where the kernel has it.
func (l *eventLoad) wait(d time.Duration) (int, error) {
	for {
		var n int
		var err error
		if !l.noPwait2 {
			ts := unix.NsecToTimespec(int64(d))
			call := syscall.Syscall6
			if l.rawWait {
				call = syscall.RawSyscall6
			}
			r, _, errno := call(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])),
				uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
			if errno == unix.ENOSYS {
				l.noPwait2 = true
				continue
			}
			n = int(r)
			if errno != 0 {
				err = errno
			}
		} else {
			ms := int((d + time.Millisecond - 1) / time.Millisecond) // never 0 for a positive wait: no spin
			n, err = unix.EpollWait(l.epfd, l.events, ms)
		}
		if err == unix.EINTR {
			return 0, nil
		}
		return n, err
	}
}
