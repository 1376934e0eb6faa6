package proc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// ErrExited reports, from WaitReady, a process that exited before it was ready.
var ErrExited = errors.New("process exited before it was ready")

// ErrNotReady reports, from WaitReady, a process that was not ready in time.
var ErrNotReady = errors.New("process not ready in time")

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}

// Process is a started child process that leads its own process group.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Start starts cmd as the leader of a new process group (it sets cmd.SysProcAttr) and waits
// for it in the background. The caller sets cmd's directory, environment and output before.
func Start(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited returns a channel that is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// WaitReady calls ready every interval until it reports true (WaitReady returns nil), the
// process exits (ErrExited) or timeout passes: then it kills the process group, waits for the
// process to exit and returns ErrNotReady.
func (p *Process) WaitReady(ready func() bool, timeout, interval time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return ErrExited
		default:
		}
		if ready() {
			return nil
		}
		if time.Now().After(deadline) {
			p.Kill()
			return ErrNotReady
		}
		time.Sleep(interval)
	}
}

// Stop sends SIGTERM to the process and waits for it to exit. If it has not exited within
// grace, Stop logs on t that the process, called name (such as "redistest: redis-server"),
// ignored SIGTERM, and kills its process group.
func (p *Process) Stop(t testing.TB, grace time.Duration, name string) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		t.Logf("%s pid %d ignored SIGTERM for %s; killing it", name, p.Pid(), grace)
		p.Kill()
	}
}

// Kill sends SIGKILL to the process group the process leads (so children it forked die too),
// falling back to the process alone, and waits for the process to exit.
func (p *Process) Kill() {
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// Tail returns the last max bytes of the file at path under the heading "<name> tail:", or
// "(no <name>: <error>)" when it cannot be read, for failure messages.
func Tail(path string, max int, name string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no %s: %v)", name, err)
	}
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return name + " tail:\n" + string(data)
}
