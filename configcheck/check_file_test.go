package configcheck

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFile: a file is checked as `broker serve --config` loads it, the rules on the file
// and its directory as well as its content: a directory others may write refuses it unless it
// is sticky.
func TestCheckFile(t *testing.T) {
	const valid = "issuer: https://broker.example.com\nkeys: {backend: redis, redis: {encryption_key_file: /run/broker/kek}}\n" +
		"store: {redis: {url: \"rediss://redis:6379/0\"}}\n"
	for _, tc := range []struct {
		name             string
		dirMode, mode    os.FileMode
		yaml             string
		wantErr          []string
		wantErrIs        error
		noFile, wantPass bool
	}{
		{name: "private directory", dirMode: 0o700, mode: 0o600, yaml: valid, wantPass: true},
		{name: "sticky directory others may write", dirMode: 0o777 | os.ModeSticky, mode: 0o600, yaml: valid, wantPass: true},
		{name: "group-writable file", dirMode: 0o755, mode: 0o664, yaml: valid, wantPass: true},
		{
			name: "directory others may write", dirMode: 0o777, mode: 0o600, yaml: valid,
			wantErr: []string{"broker.yaml lies in", "of mode 0777", "anyone may replace it there"},
		},
		{
			name: "setgid directory others may write", dirMode: 0o777 | os.ModeSetgid, mode: 0o600, yaml: valid,
			wantErr: []string{"anyone may replace it there"},
		},
		{name: "file others may write", dirMode: 0o700, mode: 0o606, yaml: valid, wantErr: []string{"mode 0606", "anyone may write it"}},
		{name: "invalid content", dirMode: 0o700, mode: 0o600, yaml: "issuer: https://broker.example.com\nlisten: [a]\n", wantErr: []string{"broker.yaml:2", "listen"}},
		{name: "missing file", dirMode: 0o700, noFile: true, wantErrIs: fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "config")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "broker.yaml")
			if !tc.noFile {
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil { // after the writes: no umask applies
				t.Fatal(err)
			}
			got, err := CheckFile(path)
			if tc.wantPass {
				if err != nil {
					t.Fatalf("CheckFile: %v", err)
				}
				if got.Issuer != "https://broker.example.com" || !got.SharedStore || got.KeyBackend != "redis" {
					t.Errorf("CheckFile = %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckFile accepted it: %+v", got)
			}
			if tc.wantErrIs != nil && !errors.Is(err, tc.wantErrIs) {
				t.Errorf("CheckFile = %v, want it to wrap %v", err, tc.wantErrIs)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckFile = %v, want it to say %q", err, w)
				}
			}
		})
	}
}
