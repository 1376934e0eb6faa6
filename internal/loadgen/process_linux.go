//go:build linux

package loadgen

import "syscall"

// childProcAttr starts a child as the leader of a new process group, killed by the kernel when
// the load program dies without stopping it (killed itself, or timed out by a test), so that no
// server is left behind holding its port and the machine's cores.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
