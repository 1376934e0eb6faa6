package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBuildContextLeavesReadmeSecretsOut: the files the README's Kubernetes steps write
// in the repository root, from which the README also builds the image (the key encryption key
// kek.b64, and values files holding the Redis password and the API keys), are not sent in the
// image's build context: `COPY . .` would put them into the build stage's layers (exported
// with a registry cache in mode=max, or sent to a remote builder).
func TestBuildContextLeavesReadmeSecretsOut(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "openssl rand -base64 32 > ")
	end := strings.Index(text, "helm install broker")
	if start < 0 || end < start {
		t.Fatal("README.md: no Kubernetes steps writing the KEK before helm install")
	}
	steps := text[start : end+strings.Index(text[end:], "```")]
	written := regexp.MustCompile(`(?:>|-f|--set-file \S+=)\s*([A-Za-z0-9._-]+\.(?:b64|yaml))`)
	var names []string
	for _, m := range written.FindAllStringSubmatch(steps, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) < 2 {
		t.Fatalf("found only %v among the README's files", names)
	}
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !ignoredByDockerignore(string(ignore), name) {
			t.Errorf("%s (written by the README's steps in the repository root) is in the "+
				"image's build context", name)
		}
	}
}

// ignoredByDockerignore reports whether a .dockerignore excludes path: the last pattern matching the
// path or one of its parent directories decides, "!" re-including.
func ignoredByDockerignore(dockerignore, path string) bool {
	ignored := false
	for _, line := range strings.Split(dockerignore, "\n") {
		pat := strings.TrimSpace(line)
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		negate := strings.HasPrefix(pat, "!")
		pat = strings.TrimPrefix(pat, "!")
		if matchesDockerignore(filepath.Clean(pat), path) {
			ignored = !negate
		}
	}
	return ignored
}

// matchesDockerignore reports whether pat matches path or a parent directory of it ("**/" matches
// any number of leading directories).
func matchesDockerignore(pat, path string) bool {
	for p := path; p != "." && p != "/"; p = filepath.Dir(p) {
		if ok, _ := filepath.Match(pat, p); ok {
			return true
		}
		if rest, found := strings.CutPrefix(pat, "**/"); found {
			if ok, _ := filepath.Match(rest, filepath.Base(p)); ok {
				return true
			}
		}
	}
	return false
}
