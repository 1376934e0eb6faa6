package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's `helm install` command puts no secret (the key encryption key, the Redis
// password in redis.url) in a --set argument: a command line is readable by every local user
// through /proc/PID/cmdline and ps while helm runs, and a literal password stays in the shell
// history. --set-file or a values file (-f) keeps them off it.
func TestReadmeHelmInstallKeepsSecretsOffCommandLine(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "helm install broker")
	if start < 0 {
		t.Fatal("no helm install command in README.md")
	}
	cmd := text[start:]
	cmd = cmd[:strings.Index(cmd, "```")]
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`--set(-string)?\s+secrets\.[A-Za-z]+=`),
		regexp.MustCompile(`--set(-string)?\s+redis\.url=\S*:[^@\s/]+@`),
	} {
		if m := re.FindString(cmd); m != "" {
			t.Errorf("README's helm install passes a secret on the command line: %q", m)
		}
	}
}
