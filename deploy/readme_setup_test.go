package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSetupNamesWhatTestShInstalls checks that the README's set-up section names every
// package scripts/test.sh may install with apt-get, so a reader knows what running it changes.
func TestReadmeSetupNamesWhatTestShInstalls(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../scripts/test.sh")
	if err != nil {
		t.Fatal(err)
	}
	_, setup, ok := strings.Cut(string(readme), "## Set-up")
	if !ok {
		t.Fatal("README has no set-up section")
	}
	setup, _, _ = strings.Cut(setup, "\n## ")
	// The Debian package each need_apt entry installs, and the name a reader knows it by.
	knownAs := map[string]string{"golang-go": "Go", "awscli": "aws", "systemd": "systemd"}
	apt := regexp.MustCompile(`need_apt\+=\(([a-z0-9.+-]+)\)`)
	for _, m := range apt.FindAllStringSubmatch(string(script), -1) {
		name := m[1]
		if alias, ok := knownAs[name]; ok {
			name = alias
		}
		if !strings.Contains(setup, name) {
			t.Errorf("scripts/test.sh may install %s with apt-get; the README's set-up "+
				"section does not say so", m[1])
		}
	}
}
