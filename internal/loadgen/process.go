package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// Bounds of a child's log file.
var (
	// maxChildLog is the size past which a child's log file is emptied (a server logging
	// every request writes hundreds of MB over a soak).
	maxChildLog int64 = 32 << 20
	// childLogCheck is how often the size is checked.
	childLogCheck = time.Second
)

// child is a started program leading its own process group; its output goes to a file in its
// directory, of which the end is kept.
type child struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	// maxLog is maxChildLog when the child started.
	maxLog int64
	exited chan struct{}
}

// childCommand is the program a child runs, where, and the name it goes by.
type childCommand struct {
	// name names the child in errors and its log file, name+".out" in dir.
	name string
	// dir is the child's working directory, created when missing; its log file is there.
	dir string
	// bin is the program to run.
	bin string
	// args are the program's arguments.
	args []string
}

// startChild starts cc.bin with cc.args in cc.dir as the leader of a new process group (so
// that stopping it also stops what it forks). Its output goes straight to a file, not through
// a pipe this process reads: a server logging every request would otherwise cost the load
// driver a read and a wakeup per few requests, taken from the cores the server shares. The
// file is emptied when it passes maxChildLog; its end serves error messages.
func startChild(cc childCommand) (*child, error) {
	if err := os.MkdirAll(cc.dir, 0o700); err != nil {
		return nil, fmt.Errorf("start %s: %w", cc.name, err)
	}
	log, err := os.OpenFile(filepath.Join(cc.dir, cc.name+".out"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cc.name, err)
	}
	cmd := exec.Command(cc.bin, cc.args...)
	cmd.Dir = cc.dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", cc.name, err)
	}
	c := &child{name: cc.name, cmd: cmd, log: log, maxLog: maxChildLog, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	go c.boundLog(childLogCheck)
	return c, nil
}

// boundLog empties the child's log file, checked every interval, whenever it passes its bound,
// until the child exits. The child appends (O_APPEND), so its next line lands at the start of
// the emptied file.
func (c *child) boundLog(interval time.Duration) {
	defer c.log.Close()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-c.exited:
			return
		case <-tick.C:
			c.trimLog()
		}
	}
}

// trimLog empties the child's log file if it is larger than its bound.
func (c *child) trimLog() {
	if st, err := c.log.Stat(); err == nil && st.Size() > c.maxLog {
		_ = c.log.Truncate(0)
	}
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

// logTail is the end of the child's output (at most logTailBytes), on one line.
func (c *child) logTail() string {
	f, err := os.Open(c.log.Name())
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	defer f.Close()
	buf := make([]byte, logTailBytes)
	var n int
	if st, err := f.Stat(); err == nil {
		n, _ = f.ReadAt(buf, max(st.Size()-logTailBytes, 0))
	}
	return strings.Join(strings.Fields(string(buf[:n])), " ")
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
