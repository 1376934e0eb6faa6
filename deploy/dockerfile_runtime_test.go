package deploy

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// TestDockerfileRuntimeImage pins the final stage's runtime: a distroless base without a shell (no
// :debug variant), a non-root group as well as a non-root user, JSON logs, and a default --config
// at /etc/broker/broker.yaml, the path the systemd unit and compose use.
// Guards against: deploy/Dockerfile:17 static-debian12:nonroot -> static-debian12:debug-nonroot
// (busybox shell in the image)
// Guards against: deploy/Dockerfile:19 USER 65532:65532 -> USER 65532:0 (root group)
// Guards against: deploy/Dockerfile:22 CMD --config /etc/broker/broker.yaml -> another path
// Guards against: deploy/Dockerfile:21 ENTRYPOINT without --log-format json
func TestDockerfileRuntimeImage(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	_, tag, _ := strings.Cut(final.BaseName, ":")
	if strings.Contains(tag, "debug") {
		t.Errorf("final stage on %q: the debug variants carry a busybox shell", final.BaseName)
	}
	var user string
	var entry, cmd []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entry = c.CmdLine
		case *instructions.CmdCommand:
			cmd = c.CmdLine
		}
	}
	if _, gid, ok := strings.Cut(user, ":"); !ok || gid == "" || gid == "0" || gid == "root" {
		t.Errorf("USER %q: want an explicit non-root group", user)
	}
	if i := slices.Index(entry, "--log-format"); i < 0 || i+1 >= len(entry) || entry[i+1] != "json" {
		t.Errorf("ENTRYPOINT %q: want --log-format json", entry)
	}
	if i := slices.Index(cmd, "--config"); i < 0 || i+1 >= len(cmd) || cmd[i+1] != "/etc/broker/broker.yaml" {
		t.Errorf("CMD %q: want --config /etc/broker/broker.yaml (the path of the unit and of compose)", cmd)
	}
}
