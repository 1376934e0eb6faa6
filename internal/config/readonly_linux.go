package config

import "golang.org/x/sys/unix"

// readOnlyMount reports whether dir lies on a mount nobody may write, whatever its modes (such
// as a volume a container mounts read-only).
func readOnlyMount(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Flags&unix.ST_RDONLY != 0
}
