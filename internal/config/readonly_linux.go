package config

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// readOnlyMount reports whether nobody may write dir, a directory with no link in its path,
// whatever its modes: it lies on a read-only mount (as a volume a container mounts read-only),
// and no other mount this process sees shows the same directory writable (a read-only bind
// mount of a directory reachable writable elsewhere protects nothing). A writable view in
// another mount namespace is not seen.
func readOnlyMount(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil || st.Flags&unix.ST_RDONLY == 0 {
		return false
	}
	mounts, err := readMountInfo("/proc/self/mountinfo")
	return err == nil && readOnlyEverywhere(dir, mounts)
}

// readOnlyEverywhere reports whether the mount of mounts that dir lies on is read-only, and no
// writable one shows dir.
func readOnlyEverywhere(dir string, mounts []mountEntry) bool {
	// The mount dir lies on: the one with the longest mount point holding it (the last listed
	// of those, when one covers another at the same point).
	on := -1
	for i, m := range mounts {
		if within(dir, m.point) && (on < 0 || len(m.point) >= len(mounts[on].point)) {
			on = i
		}
	}
	if on < 0 || !mounts[on].readOnly {
		return false
	}
	// dir as a path of its file system, and every mount of that file system showing it.
	inFS := joinRoot(mounts[on].root, strings.TrimPrefix(dir, mounts[on].point))
	for _, m := range mounts {
		if m.device == mounts[on].device && !m.readOnly && within(inFS, m.root) {
			return false
		}
	}
	return true
}

// mountEntry is a line of /proc/self/mountinfo: the file system's device, the directory of it
// mounted (root), where (point), and whether the mount is read-only (its own or its file
// system's options).
type mountEntry struct {
	device, root, point string
	readOnly            bool
}

// readMountInfo reads the mounts of a mountinfo file.
func readMountInfo(path string) ([]mountEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root point options [optional fields...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 6 || len(fields) < sep+4 {
			continue
		}
		out = append(out, mountEntry{
			device: fields[2], root: unescapeMount(fields[3]), point: unescapeMount(fields[4]),
			readOnly: hasOption(fields[5], "ro") || hasOption(fields[sep+3], "ro"),
		})
	}
	return out, sc.Err()
}

// hasOption reports whether the comma-separated options hold opt.
func hasOption(options, opt string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, \011, \012, \134).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

// joinRoot joins rest, a path below a mount point ("" or "/..."), to the mount's root.
func joinRoot(root, rest string) string {
	if root == "/" {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return root + rest
}
