//go:build unix

package inputfile

import (
	"io/fs"
	"syscall"
)

// Owner returns the uid owning the file info describes, and whether it could tell.
func Owner(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
