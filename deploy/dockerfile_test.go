package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile parses the Dockerfile with BuildKit's own parser and checks the image it
// describes: a build stage compiling a static binary (CGO_ENABLED=0, -trimpath) of
// ./cmd/broker, and a final stage on a distroless nonroot base pinned by tag that runs no
// command (so needs no shell), copies only the binary, runs as a non-root user and starts
// broker serve.
func TestDockerfile(t *testing.T) {
	stages := dockerfileStages(t)
	build, final := stages[0], stages[len(stages)-1]

	env := map[string]string{}
	var buildCmd string
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.RunCommand:
			if cmd := strings.Join(c.CmdLine, " "); strings.Contains(cmd, "go build") {
				buildCmd = cmd
			}
		}
	}
	if env["CGO_ENABLED"] != "0" && !strings.Contains(buildCmd, "CGO_ENABLED=0") {
		t.Error("the build stage does not set CGO_ENABLED=0: the binary would need libc")
	}
	for _, want := range []string{"-trimpath", "./cmd/broker"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("go build %q lacks %s", buildCmd, want)
		}
	}
	if !strings.HasPrefix(build.BaseName, "golang:") || !strings.Contains(build.BaseName, "1.") {
		t.Errorf("build stage on %q, want a golang image pinned by version", build.BaseName)
	}

	base, tag, _ := strings.Cut(final.BaseName, ":")
	if !strings.HasPrefix(base, "gcr.io/distroless/static") || tag == "" || tag == "latest" || !strings.Contains(tag, "nonroot") {
		t.Errorf("final stage on %q, want distroless static, nonroot, pinned by tag", final.BaseName)
	}
	var user string
	var entry []string
	var exposed []string
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			t.Errorf("the final stage runs %q: the base has no shell", c.CmdLine)
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT %q in shell form: the base has no shell", c.CmdLine)
			}
			entry = c.CmdLine
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("CMD %q in shell form: the base has no shell", c.CmdLine)
			}
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.CopyCommand:
			if c.From != build.Name || !slices.Equal(c.SourcePaths, []string{"/out/broker"}) {
				t.Errorf("the final stage copies %v from %q; want only the binary from the build stage", c.SourcePaths, c.From)
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the final stage runs as %q, want a non-root uid", user)
	}
	if len(entry) < 2 || entry[0] != "/broker" || entry[1] != "serve" {
		t.Errorf("ENTRYPOINT %q, want /broker serve", entry)
	}
	if !slices.Contains(exposed, "8080") {
		t.Errorf("EXPOSE %v, want 8080 (the chart's and compose's port)", exposed)
	}
}

// dockerfileStages parses the Dockerfile with BuildKit's own parser, fails t on any warning, and
// returns its stages: at least a build stage and a run stage.
func dockerfileStages(t *testing.T) []instructions.Stage {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile warning: %s", w.Short)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a run stage", len(stages))
	}
	return stages
}
