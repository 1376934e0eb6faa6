package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// IdleConns are keep-alive connections to a server that each made one request and then stay
// open and silent, as many clients of a busy deployment do.
type IdleConns struct {
	addr, path string
	conns      []net.Conn
}

// OpenIdle opens n connections to the server at addr (host:port), sends GET path on each with
// keep-alive and reads its answer, then leaves them open.
func OpenIdle(ctx context.Context, addr, path string, n int) (*IdleConns, error) {
	ic := &IdleConns{addr: addr, path: path}
	for range n {
		c, err := ic.dial(ctx)
		if err != nil {
			ic.Close()
			return nil, fmt.Errorf("idle connection %d of %d: %w", len(ic.conns)+1, n, err)
		}
		ic.conns = append(ic.conns, c)
	}
	return ic, nil
}

// dial opens one connection and makes its one request.
func (ic *IdleConns) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ic.addr)
	if err != nil {
		return nil, err
	}
	if err := oneRequest(c, ic.addr, ic.path); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Refill opens again, each with its one request, the connections the server has closed (its
// idle timeout), and returns how many it opened.
func (ic *IdleConns) Refill(ctx context.Context) (int, error) {
	open := ic.openFlags()
	n := 0
	for i, ok := range open {
		if ok {
			continue
		}
		_ = ic.conns[i].Close()
		c, err := ic.dial(ctx)
		if err != nil {
			return n, fmt.Errorf("reopen an idle connection: %w", err)
		}
		ic.conns[i] = c
		n++
	}
	return n, nil
}

// oneRequest sends GET path on c and reads a 200 answer, leaving c open.
func oneRequest(c net.Conn, host, path string) error {
	if err := c.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n", path, host); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return c.SetDeadline(time.Time{})
}

// Open counts the connections the server has not closed: a read that would block means the
// connection is still open.
func (ic *IdleConns) Open() int {
	n := 0
	for _, ok := range ic.openFlags() {
		if ok {
			n++
		}
	}
	return n
}

// openFlags probes every connection at once and reports which are still open.
func (ic *IdleConns) openFlags() []bool {
	open := make([]bool, len(ic.conns))
	var wg sync.WaitGroup
	for i, c := range ic.conns {
		wg.Go(func() {
			buf := make([]byte, 1)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			_, err := c.Read(buf)
			var ne net.Error
			open[i] = errors.As(err, &ne) && ne.Timeout()
			_ = c.SetReadDeadline(time.Time{})
		})
	}
	wg.Wait()
	return open
}

// Close closes every connection.
func (ic *IdleConns) Close() {
	for _, c := range ic.conns {
		_ = c.Close()
	}
	ic.conns = nil
}
