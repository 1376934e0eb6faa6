package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadOnlyEverywhere: a directory counts as read-only only when the mount it lies on is
// read-only (by its own options or its file system's), of a file system keeping its own files
// (not an overlay), and no writable mount of the same file system shows it: a read-only bind
// mount of a directory writable elsewhere protects nothing.
func TestReadOnlyEverywhere(t *testing.T) {
	info := `21 1 0:20 / /proc rw,relatime - proc proc rw
30 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 30 0:50 / /run/broker ro,relatime - tmpfs tmpfs rw,size=1024k
41 30 8:1 /srv/shared /view ro,relatime - ext4 /dev/sda1 rw
42 30 8:1 /var/lib/kubelet/pods/p/volumes/run /run/pod ro,relatime - ext4 /dev/sda1 rw
43 30 8:1 /var/lib/kubelet/pods/p/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
44 30 0:51 / /mnt/ro\040space rw,relatime - tmpfs tmpfs ro
45 30 0:52 / /over ro,relatime - overlay overlay rw,lowerdir=/srv/shared
`
	path := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(path, []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	mounts, err := readMountInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, id string
		want    bool
	}{
		{"/run/broker/config", "40", true},  // a tmpfs mounted read-only, nowhere else
		{"/view/conf", "41", false},         // a read-only bind of /srv/shared, writable through /
		{"/run/pod/config", "42", false},    // the pod's volume is under / too: writable there
		{"/etc", "30", false},               // on the writable root
		{"/mnt/ro space/conf", "44", true},  // its file system read-only; a space escaped as \040
		{"/over/conf", "45", false},         // an overlay, whose lower layer is written elsewhere
		{"/run/broker/config", "41", false}, // not within the mount the kernel names
		{"/proc/self", "21", false},         // writable
		{"/run/broker/config", "99", false}, // a mount not listed
	} {
		if got := readOnlyEverywhere(tc.dir, tc.id, mounts); got != tc.want {
			t.Errorf("readOnlyEverywhere(%q, mount %s) = %v, want %v", tc.dir, tc.id, got, tc.want)
		}
	}
}

// TestReadOnlyRootWithWritableBind: on a root file system mounted read-only, a directory that a
// writable bind mount of the same file system shows elsewhere is not read-only; one it does not
// show is.
// Guards against: readonly_linux.go placing a path of the mount at "/" in its file system
// without its leading slash, so that no other mount of it ever showed the directory
func TestReadOnlyRootWithWritableBind(t *testing.T) {
	info := "30 1 8:2 / / ro,relatime - ext4 /dev/sdb1 rw\n31 30 8:2 /srv/x /data rw,relatime - ext4 /dev/sdb1 rw\n"
	path := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(path, []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	mounts, err := readMountInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{"/srv/x/conf": false, "/srv/x": false, "/etc/broker": true, "/srv/xy": true} {
		if got := readOnlyEverywhere(dir, "30", mounts); got != want {
			t.Errorf("readOnlyEverywhere(%q) on a read-only root with /srv/x bound writable = %v, want %v", dir, got, want)
		}
	}
}
