package emulator

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStateDirKeepsAndRenews requires the kept certificate to be reused while it is valid for
// another day and replaced once it is not, and a key file others can read to be refused.
func TestStateDirKeepsAndRenews(t *testing.T) {
	s := StateDir{Dir: filepath.Join(t.TempDir(), "state")}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first, err := s.Certificate(now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Certificate(now.Add(5 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], first.Certificate[0]) {
		t.Error("a certificate valid for two more days was replaced")
	}
	renewed, err := s.Certificate(now.Add(6*24*time.Hour + time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(renewed.Certificate[0], first.Certificate[0]) {
		t.Error("a certificate expiring within a day was kept")
	}

	if err := os.Chmod(filepath.Join(s.Dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Certificate(now); err == nil || !strings.Contains(err.Error(), KeyFileName) {
		t.Errorf("a key file others can read: %v", err)
	}
}

// TestDefaultStateDir requires XDG_STATE_HOME to be honoured, HOME's ~/.local/state otherwise.
func TestDefaultStateDir(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/broker/emulator"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/state/broker/emulator"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/broker/emulator"},
		{map[string]string{}, ""},
	}
	for _, tc := range cases {
		got, err := DefaultStateDir(func(k string) string { return tc.env[k] })
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%v: %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}
