package loadgen

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// ServerConfig describes a broker server to start as a child process.
type ServerConfig struct {
	// Binary is the broker executable; it is run as `Binary serve --config FILE`.
	Binary string
	// Dir is a private directory for the configuration, the key encryption key and the log.
	Dir string
	// Alg is the signing algorithm, RS256 or ES256.
	Alg string
	// RedisURL puts runs, limits, keys and the audit trail in that Redis; empty for memory.
	RedisURL string
	// Stacks is how many stacks the catalog holds (at least 1), spread over Spaces spaces
	// besides the two every configuration has.
	Stacks, Spaces int
}

// benchStack is the stack every measured run belongs to.
const benchStack = "bench-stack"

// Server is a broker server running as a child process.
type Server struct {
	Broker
	child *child
}

// StartServer writes a configuration for cfg (issuer and listen address on a free loopback
// port, an API key with a fresh secret) and starts the server on it, waiting until /readyz
// answers 200.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("server directory: %w", err)
	}
	secret, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	var srv *Server
	_, _, err = startOnFreePort(func(addr string) (*child, error) {
		path := filepath.Join(cfg.Dir, "broker.yaml")
		yaml, err := serverYAML(cfg, addr, secret)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			return nil, fmt.Errorf("write server configuration: %w", err)
		}
		c, err := startChild(childCommand{name: "broker-serve", dir: cfg.Dir, bin: cfg.Binary,
			args: []string{"serve", "--config", path, "--log-format", "json"}})
		if err != nil {
			return nil, err
		}
		b := Broker{URL: "http://" + addr, APIKey: secret, Stack: benchStack, Alg: cfg.Alg}
		if err := c.waitReady(ctx, func() bool { return ready(b.URL) }); err != nil {
			return nil, err
		}
		b.Pid = c.Pid()
		srv = &Server{Broker: b, child: c}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// Stop stops the server and waits for it to exit.
func (s *Server) Stop() { s.child.stop() }

// ready reports whether GET base/readyz answers 200.
func ready(base string) bool {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// serverYAML renders the configuration of cfg listening on addr, with an API key of secret.
func serverYAML(cfg ServerConfig, addr, secret string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "issuer: http://%s\nlisten: %s\n", addr, addr)
	fmt.Fprintf(&b, "tokens: {default_audience: sts.amazonaws.com}\n")
	if cfg.RedisURL != "" {
		kek := filepath.Join(cfg.Dir, "kek")
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		if err := os.WriteFile(kek, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write key encryption key: %w", err)
		}
		fmt.Fprintf(&b, "store: {redis: {url: %q}}\n", cfg.RedisURL)
		fmt.Fprintf(&b, "keys:\n  backend: redis\n  algorithm: %s\n  redis: {encryption_key_file: %q}\n", cfg.Alg, kek)
	} else {
		fmt.Fprintf(&b, "keys:\n  backend: memory\n  algorithm: %s\n", cfg.Alg)
	}
	b.WriteString("spaces:\n  - id: root\n  - id: bench\n    parent: root\n    inherit: true\n")
	for i := range cfg.Spaces {
		fmt.Fprintf(&b, "  - {id: bench-s%d, parent: bench, inherit: true}\n", i)
	}
	fmt.Fprintf(&b, "stacks:\n  - {id: %s, space: bench}\n", benchStack)
	for i := 1; i < cfg.Stacks; i++ {
		space := "bench"
		if cfg.Spaces > 0 {
			space = fmt.Sprintf("bench-s%d", i%cfg.Spaces)
		}
		fmt.Fprintf(&b, "  - {id: bench-st%d, space: %s}\n", i, space)
	}
	sum := sha256.Sum256([]byte(secret))
	b.WriteString("roles:\n  - {id: bench-runner, actions: [run:create, run:read, run:update]}\n")
	fmt.Fprintf(&b, "api_keys:\n  - {id: bench, secret_sha256: %s, bindings: [{role: bench-runner, space: root}]}\n", hex.EncodeToString(sum[:]))
	return b.String(), nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(raw), nil
}
