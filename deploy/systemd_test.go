package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/brokerhq/broker/configcheck"
	"github.com/brokerhq/broker/internal/testutil/tooltest"
)

// unitDirectives reads the [Service] directives of a unit file (a directive given twice keeps
// every value).
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			out[k] = append(out[k], v)
		}
	}
	return out
}

// TestSystemdUnit checks the hardening of broker.service and its example configuration: broker
// accepts the configuration, its key directory lies in the service's StateDirectory, and, where
// systemd-analyze is installed, `verify` finds nothing and `security` rates the unit's exposure
// at most 2.0. Every sandboxing directive is checked by itself, so none can go where
// systemd-analyze is absent or while the exposure stays under its threshold.
// Guards against: deploy/systemd/broker.service:49-73 removal of PrivateDevices, PrivateUsers,
// ProtectKernelModules, ProtectKernelTunables, ProtectProc=invisible,
// RestrictSUIDSGID, MemoryDenyWriteExecute, SystemCallArchitectures,
// SystemCallFilter=~@privileged; LogsDirectoryMode=0700 -> 0755; Restart=on-failure
// -> no
// Guards against: deploy/systemd/broker.service:28 ExecStart without --log-format json
func TestSystemdUnit(t *testing.T) {
	d := unitDirectives(t, "systemd/broker.service")
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "broker", "StateDirectoryMode": "0700", "ProtectSystem": "strict",
		"ProtectHome": "yes", "NoNewPrivileges": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "ExecReload": "/bin/kill -HUP $MAINPID", "UMask": "0077",
		// Each of these alone keeps systemd-analyze's exposure under 2.0 (1.4 as shipped).
		"Restart": "on-failure", "LogsDirectory": "broker", "LogsDirectoryMode": "0700", "AmbientCapabilities": "",
		"PrivateDevices": "yes", "PrivateUsers": "yes", "ProtectClock": "yes", "ProtectHostname": "yes",
		"ProtectKernelLogs": "yes", "ProtectKernelModules": "yes", "ProtectKernelTunables": "yes",
		"ProtectControlGroups": "yes", "ProtectProc": "invisible", "ProcSubset": "pid", "RestrictNamespaces": "yes",
		"RestrictRealtime": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
		"RemoveIPC": "yes", "SystemCallArchitectures": "native", "SystemCallErrorNumber": "EPERM", "DevicePolicy": "closed",
	} {
		if got := d[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if f := d["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" || !slices.Contains(f, "~@privileged") {
		t.Errorf("SystemCallFilter=%q, want @system-service first, and ~@privileged", f)
	}
	if e := strings.Fields(strings.Join(d["ExecStart"], " ")); flagValue(t, e, "--log-format") != "json" {
		t.Errorf("ExecStart=%q: want --log-format json", e)
	}
	exec0 := strings.Fields(d["ExecStart"][0])
	if len(exec0) < 2 || exec0[1] != "serve" {
		t.Fatalf("ExecStart=%q, want broker serve", exec0)
	}
	if cfg := flagValue(t, exec0, "--config"); cfg != "/etc/broker/broker.yaml" {
		t.Errorf("ExecStart reads %s, the example is for /etc/broker/broker.yaml", cfg)
	}

	data, err := os.ReadFile("systemd/broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := configcheck.Check("broker.yaml", data); err != nil {
		t.Fatalf("broker refuses the example configuration: %v", err)
	}
	var doc struct {
		Keys struct{ Backend, Dir string }
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Keys.Backend != "file" || !strings.HasPrefix(doc.Keys.Dir, "/var/lib/"+d["StateDirectory"][0]+"/") {
		t.Errorf("keys %+v: the file backend's directory must lie in StateDirectory, the one place the service may write", doc.Keys)
	}

	analyze := tooltest.Look(t, "systemd-analyze") // the unit was checked by its directives above
	// verify checks that ExecStart's binary exists: point it at a stand-in.
	dir := t.TempDir()
	stub := filepath.Join(dir, "broker")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("systemd/broker.service")
	if err != nil {
		t.Fatal(err)
	}
	unitPath := filepath.Join(dir, "broker.service")
	if err := os.WriteFile(unitPath, bytes.ReplaceAll(unit, []byte(exec0[0]), []byte(stub)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", unitPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", "--threshold=20", unitPath).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security rates the unit's exposure above 2.0: %v\n%s", err, out)
	}
	if i := bytes.Index(out, []byte("Overall exposure level")); i >= 0 {
		t.Logf("%s", bytes.TrimSpace(out[i:]))
	}
}
