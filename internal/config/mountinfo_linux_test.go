package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadOnlyEverywhere: a directory counts as read-only only when the mount it lies on is
// read-only (by its own options or its file system's) and no writable mount of the same file
// system shows it: a read-only bind mount of a directory writable elsewhere protects nothing.
func TestReadOnlyEverywhere(t *testing.T) {
	info := `21 1 0:20 / /proc rw,relatime - proc proc rw
30 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 30 0:50 / /run/broker ro,relatime - tmpfs tmpfs rw,size=1024k
41 30 8:1 /srv/shared /view ro,relatime - ext4 /dev/sda1 rw
42 30 8:1 /var/lib/kubelet/pods/p/volumes/run /run/pod ro,relatime - ext4 /dev/sda1 rw
43 30 8:1 /var/lib/kubelet/pods/p/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
44 30 0:51 / /mnt/ro\040space rw,relatime - tmpfs tmpfs ro
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
		dir  string
		want bool
	}{
		{"/run/broker/config", true}, // a tmpfs mounted read-only, nowhere else
		{"/view/conf", false},        // a read-only bind of /srv/shared, writable through /
		{"/run/pod/config", false},   // the pod's volume is under / too: writable there
		{"/etc", false},              // on the writable root
		{"/mnt/ro space/conf", true}, // its file system read-only; a space escaped as \040
		{"/mnt/ro spaceship", false}, // a name beginning alike is not within the mount
		{"/proc/self", false},        // writable
	} {
		if got := readOnlyEverywhere(tc.dir, mounts); got != tc.want {
			t.Errorf("readOnlyEverywhere(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}
