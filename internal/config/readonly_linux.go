package config

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// readOnlyMount reports whether nobody may write dir, a directory with no link in its path,
// whatever its modes: the mount it lies on (found by its id, so a mount another hides is never
// taken for it) is read-only, of a file system that keeps its own files (tmpfs, or a disk's:
// not an overlay, whose lower layers may be written elsewhere, nor a network or FUSE one), and no
// other mount this process sees shows the same directory writable (a read-only bind mount of a
// directory reachable writable elsewhere protects nothing), nor writes into it (a writable
// overlay whose upper layer holds dir). A writable view in another mount namespace is not seen,
// nor an overlay whose upper layer this process cannot reach by the path it was mounted with.
func readOnlyMount(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil || st.Flags&unix.ST_RDONLY == 0 {
		return false
	}
	id, ok := mountID(dir)
	if !ok {
		return false // the kernel cannot tell which mount it is
	}
	mounts, err := readMountInfo("/proc/self/mountinfo")
	return err == nil && readOnlyEverywhere(dir, id, mounts) && !overlayUpperHolds(dir, id, mounts)
}

// overlayUpperHolds reports whether dir, on mount id of mounts, lies in the upper layer of a
// writable overlay of mounts: what anyone writes through that overlay lands there, whatever
// the mounts dir itself is seen through. The upper layer is placed in its file system (by the
// mount its path lies on now), so a directory of it seen through another mount (a bind of a
// directory within it) is found too, and, as a second check, by its inode among dir's parents.
func overlayUpperHolds(dir, id string, mounts []mountEntry) bool {
	on := slices.IndexFunc(mounts, func(m mountEntry) bool { return m.id == id })
	if on < 0 {
		return true
	}
	inFS := fsPath(mounts[on], dir)
	var uppers []unix.Stat_t
	for _, m := range mounts {
		if m.fsType != "overlay" || m.readOnly || m.upper == "" {
			continue
		}
		upper, err := filepath.EvalSymlinks(m.upper)
		if err != nil || !filepath.IsAbs(upper) {
			continue // not reachable from here: see readOnlyMount
		}
		if uid, ok := mountID(upper); ok {
			if u := slices.IndexFunc(mounts, func(m mountEntry) bool { return m.id == uid }); u >= 0 &&
				within(upper, mounts[u].point) && mounts[u].device == mounts[on].device && within(inFS, fsPath(mounts[u], upper)) {
				return true
			}
		}
		var st unix.Stat_t
		if unix.Stat(upper, &st) == nil {
			uppers = append(uppers, st)
		}
	}
	for d := dir; len(uppers) > 0; d = filepath.Dir(d) {
		var st unix.Stat_t
		if unix.Stat(d, &st) == nil && slices.ContainsFunc(uppers, func(u unix.Stat_t) bool { return u.Dev == st.Dev && u.Ino == st.Ino }) {
			return true
		}
		if d == "/" || d == "." {
			break
		}
	}
	return false
}

// mountID is the id of the mount dir lies on, as /proc/self/mountinfo names it: statx's, or,
// from a kernel whose statx does not give it (before 5.8), that of a descriptor of dir in
// /proc/self/fdinfo.
func mountID(dir string) (string, bool) {
	var sx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &sx) == nil && sx.Mask&unix.STATX_MNT_ID != 0 {
		return strconv.FormatUint(sx.Mnt_id, 10), true
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "mnt_id:"); ok {
			v = strings.TrimSpace(v)
			_, err := strconv.ParseUint(v, 10, 64)
			return v, err == nil
		}
	}
	return "", false
}

// ownFiles are the file systems whose files are their own: a read-only mount of one cannot be
// changed but through another mount of it.
var ownFiles = map[string]bool{"tmpfs": true, "ramfs": true, "ext2": true, "ext3": true, "ext4": true,
	"xfs": true, "btrfs": true, "f2fs": true, "zfs": true}

// readOnlyEverywhere reports whether mount id of mounts, the one dir lies on, is read-only and of
// a file system in ownFiles, and no writable mount of that file system shows dir.
func readOnlyEverywhere(dir, id string, mounts []mountEntry) bool {
	on := slices.IndexFunc(mounts, func(m mountEntry) bool { return m.id == id })
	if on < 0 || !mounts[on].readOnly || !ownFiles[mounts[on].fsType] || !within(dir, mounts[on].point) {
		return false
	}
	// dir as a path of its file system, and every mount of that file system showing it.
	inFS := fsPath(mounts[on], dir)
	for _, m := range mounts {
		if m.device == mounts[on].device && !m.readOnly && within(inFS, m.root) {
			return false
		}
	}
	return true
}

// mountEntry is a line of /proc/self/mountinfo: the mount's id, the file system's device and
// type, the directory of it mounted (root), where (point), whether the mount is read-only (its
// own or its file system's options), and an overlay's upper layer (its upperdir option, a path
// as its mounter named it).
type mountEntry struct {
	id, device, root, point, fsType, upper string
	readOnly                               bool
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
			id: fields[0], device: fields[2], root: unescapeMount(fields[3]), point: unescapeMount(fields[4]), fsType: fields[sep+1],
			readOnly: hasOption(fields[5], "ro") || hasOption(fields[sep+3], "ro"),
			upper:    optionValue(fields[sep+3], "upperdir"),
		})
	}
	return out, sc.Err()
}

// hasOption reports whether the comma-separated options hold opt.
func hasOption(options, opt string) bool { return slices.Contains(strings.Split(options, ","), opt) }

// optionValue is the value of the comma-separated options' name=value, with mountinfo's escapes
// undone and then the file system's own (a backslash before a comma or a backslash, as overlayfs
// keeps them from its mounter); "" when none.
func optionValue(options, name string) string {
	for _, o := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(o, name+"="); ok {
			return unescapeOption(unescapeMount(v))
		}
	}
	return ""
}

// unescapeOption takes away each backslash that escapes the character after it.
func unescapeOption(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
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

// fsPath is p, a path within m's mount point, as a path of m's file system.
func fsPath(m mountEntry, p string) string {
	rest := p // below "/", all of p
	if m.point != "/" {
		rest = strings.TrimPrefix(p, m.point)
	}
	return joinRoot(m.root, rest)
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
