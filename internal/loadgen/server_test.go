package loadgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestServerYAMLIsAValidConfiguration parses every configuration the program generates with
// broker's own configuration loader.
func TestServerYAMLIsAValidConfiguration(t *testing.T) {
	cases := []struct {
		name string
		cfg  ServerConfig
	}{
		{"memory RS256", ServerConfig{Alg: "RS256", Stacks: 1}},
		{"memory ES256", ServerConfig{Alg: "ES256", Stacks: 1}},
		{"redis", ServerConfig{Alg: "RS256", Stacks: 1, RedisURL: "redis://127.0.0.1:6390/1"}},
		{"small catalog", ServerConfig{Alg: "RS256", Stacks: BaseStacks, Spaces: 1}},
		{"large catalog", ServerConfig{Alg: "RS256", Stacks: CatalogStacks, Spaces: CatalogSpaces}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Dir = t.TempDir()
			yaml, err := serverYAML(c.cfg, "127.0.0.1:40001", "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse("bench.yaml", []byte(yaml))
			if err != nil {
				t.Fatalf("generated configuration refused: %v\n%.2000s", err, yaml)
			}
			if cfg.Issuer != "http://127.0.0.1:40001" || cfg.Listen != "127.0.0.1:40001" || cfg.Keys.Algorithm != c.cfg.Alg {
				t.Errorf("issuer %q listen %q alg %q", cfg.Issuer, cfg.Listen, cfg.Keys.Algorithm)
			}
			if len(cfg.Stacks) != c.cfg.Stacks || cfg.Stacks[0].ID != benchStack {
				t.Errorf("%d stacks, the first %q; want %d, the first %q", len(cfg.Stacks), cfg.Stacks[0].ID, c.cfg.Stacks, benchStack)
			}
			if len(cfg.Spaces) != 2+c.cfg.Spaces {
				t.Errorf("%d spaces, want %d", len(cfg.Spaces), 2+c.cfg.Spaces)
			}
			if (cfg.Store != nil) != (c.cfg.RedisURL != "") {
				t.Errorf("store %+v for redis URL %q", cfg.Store, c.cfg.RedisURL)
			}
			sum := sha256.Sum256([]byte("s3cret"))
			if len(cfg.APIKeys) != 1 || cfg.APIKeys[0].SecretSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("api keys %+v", cfg.APIKeys)
			}
			if strings.Contains(yaml, "s3cret") {
				t.Error("the configuration holds the secret itself, not its hash")
			}
		})
	}
}

func TestPathOf(t *testing.T) {
	cases := map[string]string{
		"http://127.0.0.1:8080/.well-known/jwks": "/.well-known/jwks",
		"https://id.example.com/t/.well-known/x": "/t/.well-known/x",
		"https://id.example.com":                 "/",
	}
	for in, want := range cases {
		if got := pathOf(in); got != want {
			t.Errorf("pathOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStartServerReportsAChildThatExits(t *testing.T) {
	// sh -c 'echo ...; exit 3' stands in for a server refusing its configuration.
	script := filepath.Join(t.TempDir(), "fake-broker")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"config: stacks[0]: bad id\" >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := StartServer(context.Background(), ServerConfig{Binary: script, Dir: t.TempDir(), Alg: "RS256", Stacks: 1})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "bad id") {
		t.Errorf("err = %v, want the exit and the child's last words", err)
	}
}
