//go:build !linux

package loadgen

import "syscall"

// childProcAttr starts a child as the leader of a new process group. This system has no
// signal on the parent's death: a load program killed outright leaves its children running.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
