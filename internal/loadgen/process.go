package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports a helper program (redis-server, nginx) that is not on PATH.
var ErrNotInstalled = errors.New("not installed")

// Life cycle of child processes.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	pollInterval = 20 * time.Millisecond
	logTailBytes = 1500
)

// child is a started program leading its own process group; the end of its output is kept.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    *tailBuffer
	exited chan struct{}
}

// startChild starts bin with args in dir as the leader of a new process group (so that
// stopping it also stops what it forks), keeping the end of its output for error messages
// (a server logging every request would fill a file over a soak).
func startChild(name, dir, bin string, args ...string) (*child, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	log := &tailBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// Pid is the child's process id.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// waitReady polls ready until it reports true, the child exits or readyTimeout passes; on
// failure it stops the child and quotes the end of its log.
func (c *child) waitReady(ctx context.Context, ready func() bool) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited before it was ready: %s", c.name, c.logTail())
		default:
		}
		if ready() {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			c.stop()
			return fmt.Errorf("%s not ready within %s: %s", c.name, readyTimeout, c.logTail())
		}
		time.Sleep(pollInterval)
	}
}

// stop sends SIGTERM to the child's process group, then SIGKILL if it has not exited within
// stopTimeout, and waits for it. Stopping a stopped child does nothing.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = syscall.Kill(-c.Pid(), syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
		<-c.exited
	}
}

// logTail is the end of the child's output, on one line.
func (c *child) logTail() string {
	return strings.Join(strings.Fields(c.log.String()), " ")
}

// tailBuffer keeps the last logTailBytes bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// Write keeps the end of p.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*logTailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-logTailBytes:]...)
	}
	return len(p), nil
}

// String is the kept end, at most logTailBytes.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf[max(len(t.buf)-logTailBytes, 0):])
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

// tcpAccepts reports whether addr accepts a TCP connection.
func tcpAccepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// startAttempts is how many free ports a start tries when one is taken under its feet.
const startAttempts = 3

// startOnFreePort starts a child with launch on a fresh free address, retrying on another
// when the child exits before it is ready (most often: the port was taken meanwhile).
func startOnFreePort(launch func(addr string) (*child, error)) (*child, string, error) {
	var lastErr error
	for range startAttempts {
		addr, err := freeAddr()
		if err != nil {
			return nil, "", err
		}
		c, err := launch(addr)
		if err == nil {
			return c, addr, nil
		}
		lastErr = err
	}
	return nil, "", lastErr
}
