package proc_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/proc"
)

// startSleep starts `sleep 30`, skipping the test when sleep is not installed.
func startSleep(t *testing.T) *proc.Process {
	t.Helper()
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("sleep not in PATH: %v", err)
	}
	p, err := proc.Start(exec.Command(bin, "30"))
	if err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-p.Exited():
		default:
			p.Kill()
		}
	})
	return p
}

func TestStartStop(t *testing.T) {
	p := startSleep(t)
	if pgid, err := syscall.Getpgid(p.Pid()); err != nil || pgid != p.Pid() {
		t.Errorf("process group = %d, %v; want its own, %d", pgid, err, p.Pid())
	}
	if err := p.WaitReady(func() bool { return true }, time.Second, time.Millisecond); err != nil {
		t.Errorf("WaitReady with a ready process: %v", err)
	}
	start := time.Now()
	p.Stop(t, 10*time.Second, "sleep")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %s: sleep should end on SIGTERM", d)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	if err := syscall.Kill(p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d still exists after Stop (kill -0: %v)", p.Pid(), err)
	}
}

func TestWaitReady(t *testing.T) {
	p := startSleep(t)
	if err := p.WaitReady(func() bool { return false }, 50*time.Millisecond, 10*time.Millisecond); !errors.Is(err, proc.ErrNotReady) {
		t.Fatalf("WaitReady never ready = %v, want ErrNotReady", err)
	}
	// The timeout killed the process, so it now counts as exited.
	if err := p.WaitReady(func() bool { return true }, time.Second, time.Millisecond); !errors.Is(err, proc.ErrExited) {
		t.Errorf("WaitReady after the kill = %v, want ErrExited", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := proc.FreePort()
	if err != nil {
		t.Fatalf("FreePort: %v", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on the port FreePort returned (%d): %v", port, err)
	}
	_ = l.Close()
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	if got := proc.Tail(path, 4, "x.log"); !strings.HasPrefix(got, "(no x.log: ") {
		t.Errorf("Tail of a missing file = %q", got)
	}
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := proc.Tail(path, 4, "x.log"), "x.log tail:\n6789"; got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
}
