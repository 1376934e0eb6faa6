package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestReadOnlyTmpfsOnKernelWithoutStatxMntID: a tmpfs of mode 0777 (not sticky: a
// node-disk-like emptyDir root), remounted read-only, no other mount showing it, is exempted on a
// kernel whose statx cannot give the mount id too (before 5.8: the mask lacks STATX_MNT_ID;
// before 4.11: ENOSYS, simulated here by a seccomp filter on this thread only): /proc/self/fdinfo
// names the mount. It needs root, and says it skipped otherwise.
// Guards against: readonly_linux.go refusing whenever statx gives no mount id.
func TestReadOnlyTmpfsOnKernelWithoutStatxMntID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, dir, 0, "size=64k,mode=0777")
	if err := os.WriteFile(filepath.Join(dir, "broker.yaml"), []byte("issuer: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if !readOnlyMount(dir) {
		t.Fatal("set-up: with statx's mount id the read-only tmpfs is not exempted either")
	}
	got := make(chan any)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread, filtered, ends with the goroutine
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			got <- err
			return
		}
		filter := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_STATX},
			{Code: unix.BPF_RET | unix.BPF_K, K: 0x00050000 | uint32(unix.ENOSYS)}, // SECCOMP_RET_ERRNO
			{Code: unix.BPF_RET | unix.BPF_K, K: 0x7fff0000},                       // SECCOMP_RET_ALLOW
		}
		prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
		if err := unix.Prctl(unix.PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
			got <- err
			return
		}
		var sx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &sx); !errors.Is(err, unix.ENOSYS) {
			got <- errors.New("set-up: the filter did not take statx away")
			return
		}
		got <- readOnlyMount(dir)
	}()
	switch r := (<-got).(type) {
	case error:
		t.Fatal(r)
	case bool:
		if !r {
			t.Errorf("on a kernel without statx's mount id, the read-only tmpfs %s (mode 0777) is not exempted: a configuration in it is refused", dir)
		}
	}
}
