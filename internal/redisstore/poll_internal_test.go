package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// dialPair dials a loopback listener through p's dialer and returns both ends: the client's
// (a pollConn) and the server's (as accepted).
func dialPair(p *replyPoll) (client, server net.Conn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = p.dialerFor(nil, time.Second)(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	if server = <-accepted; server == nil {
		_ = client.Close()
		return nil, nil, errors.New("accept failed")
	}
	if _, ok := client.(*pollConn); !ok {
		_ = client.Close()
		_ = server.Close()
		return nil, nil, fmt.Errorf("dialer returned %T, want *pollConn", client)
	}
	return client, server, nil
}

// pollPair is dialPair for a test, both ends closed when it ends.
func pollPair(t *testing.T, p *replyPoll) (client, server net.Conn) {
	t.Helper()
	client, server, err := dialPair(p)
	if err != nil {
		t.Fatalf("dialPair: %v", err)
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}

// newPoll returns a replyPoll with budget and spare as its probe for a spare core.
func newPoll(budget time.Duration, spare func() bool) *replyPoll {
	p := &replyPoll{budget: budget}
	p.spare.Store(&spare)
	return p
}

// spareCore and noSpareCore are probes for a spare core that always and never find one.
func spareCore() bool   { return true }
func noSpareCore() bool { return false }

// replyAfter writes msg to c after d, from another goroutine.
func replyAfter(c net.Conn, d time.Duration, msg string) {
	go func() {
		time.Sleep(d)
		_, _ = c.Write([]byte(msg))
	}()
}

// TestPollConnRead checks when a read polls and that it returns the reply either way: a poll
// that the reply ends within the budget is a hit; one that runs out of budget is a miss and the
// read then waits for the reply as usual; without want or without a spare core no poll happens.
// The replies come late enough (200 ms) that the first read always finds none yet.
func TestPollConnRead(t *testing.T) {
	cases := []struct {
		name         string
		budget       time.Duration
		spare        func() bool
		want         bool
		delay        time.Duration
		hits, misses uint64
	}{
		{name: "reply within the budget", budget: 5 * time.Second, spare: spareCore, want: true, delay: 200 * time.Millisecond, hits: 1},
		{name: "reply after the budget", budget: time.Microsecond, spare: spareCore, want: true, delay: 200 * time.Millisecond, misses: 1},
		{name: "no round trip waiting", budget: 5 * time.Second, spare: spareCore, want: false, delay: 200 * time.Millisecond},
		{name: "no spare core", budget: 5 * time.Second, spare: noSpareCore, want: true, delay: 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPoll(tc.budget, tc.spare)
			p.want.Store(tc.want)
			client, server := pollPair(t, p)
			replyAfter(server, tc.delay, "+PONG\r\n")
			buf := make([]byte, 64)
			n, err := client.Read(buf)
			if err != nil || string(buf[:n]) != "+PONG\r\n" {
				t.Fatalf("Read = %q, %v; want the reply", buf[:n], err)
			}
			if got := p.hits.Load(); got != tc.hits {
				t.Errorf("hits = %d, want %d", got, tc.hits)
			}
			if got := uint64(p.misses.Load()); got != tc.misses {
				t.Errorf("misses = %d, want %d", got, tc.misses)
			}
		})
	}
}

// TestPollConnEnds checks that a polling read reports the peer's close as io.EOF and a passed
// read deadline as a timeout, as a plain read does.
func TestPollConnEnds(t *testing.T) {
	t.Run("closed by the peer", func(t *testing.T) {
		p := newPoll(5*time.Second, spareCore)
		p.want.Store(true)
		client, server := pollPair(t, p)
		go func() { time.Sleep(20 * time.Millisecond); _ = server.Close() }()
		if _, err := client.Read(make([]byte, 8)); !errors.Is(err, io.EOF) {
			t.Fatalf("Read after the peer closed: %v, want io.EOF", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		p := newPoll(time.Microsecond, spareCore)
		p.want.Store(true)
		client, _ := pollPair(t, p)
		_ = client.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		start := time.Now()
		_, err := client.Read(make([]byte, 8))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read past its deadline: %v, want a timeout", err)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Fatalf("Read returned after %s", waited)
		}
	})
}

// TestPollBacksOff checks that after missLimit misses in a row polls stop but for one round trip
// in retryEvery, and that hits bring them back.
func TestPollBacksOff(t *testing.T) {
	p := newPoll(time.Microsecond, spareCore)
	p.want.Store(true)
	for i := 0; i < missLimit; i++ {
		if !p.allowed() {
			t.Fatalf("poll %d not allowed before %d misses", i, missLimit)
		}
		p.miss()
	}
	allowed := 0
	for i := 0; i < 10*retryEvery; i++ {
		if p.allowed() {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("after %d misses, %d of %d round trips polled, want 10", missLimit, allowed, 10*retryEvery)
	}
	p.hit()
	if !p.allowed() {
		t.Fatalf("a hit did not bring polling back")
	}
	// A hit takes one miss off: the count stays below the limit while most polls hit.
	for i := 0; i < 100; i++ {
		if i%4 == 0 {
			p.hit()
		} else {
			p.miss()
		}
		p.hit()
	}
	if !p.allowed() {
		t.Fatalf("polling stopped although most polls hit (misses %d)", p.misses.Load())
	}
}

// TestPollConnIsANetConn runs the net.Conn conformance suite (golang.org/x/net/nettest) on a
// pair of polling connections that poll on every read: basic I/O, concurrent reads and writes,
// deadlines, close.
func TestPollConnIsANetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		p := newPoll(50*time.Microsecond, spareCore)
		p.want.Store(true)
		c1, server, err := dialPair(p)
		if err != nil {
			return nil, nil, nil, err
		}
		c2 = p.wrap(server)
		return c1, c2, func() { _ = c1.Close(); _ = c2.Close() }, nil
	})
}
