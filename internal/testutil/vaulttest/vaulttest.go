package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/testutil/proc"
)

// Environment variables read by Start.
const (
	// BinEnv names the vault binary to run.
	BinEnv = "BROKER_VAULT_BIN"
	// RequireEnv, set to 1, turns a missing binary from a skipped test into a failed one.
	RequireEnv = "BROKER_REQUIRE_VAULT"
)

// Version is the Vault release scripts/build-vault.sh builds.
const Version = "v1.21.0"

// Timing of the server's life cycle.
const (
	readyTimeout  = 30 * time.Second
	stopTimeout   = 10 * time.Second
	pollInterval  = 50 * time.Millisecond
	startAttempts = 3
	logTail       = 4096
)

// errExited reports a server that exited before it was ready (most often a port taken
// between picking it and binding it).
var errExited = errors.New("vault server exited before it was ready")

// Server is a Vault dev server owned by one test: in memory, unsealed, listening on a
// loopback port without TLS, stopped when the test ends.
type Server struct {
	t         testing.TB
	bin       string
	dir       string
	addr      string
	rootToken string

	proc *proc.Process // nil while stopped
	log  string
}

// Start runs a Vault dev server on a free loopback port with a random root token, waits until
// it reports itself initialized and unsealed, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("vaulttest: no vault binary at %s (%v) and %s=1; run scripts/build-vault.sh to build Vault %s",
				bin, err, RequireEnv, Version)
		}
		t.Skipf("vaulttest: no vault binary at %s; run scripts/build-vault.sh (or set %s) to run this test, %s=1 to fail instead",
			bin, BinEnv, RequireEnv)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), rootToken: randomToken(t)}
	t.Cleanup(func() { s.stop(t) })
	for attempt := 1; ; attempt++ {
		port, err := freePortPair()
		if err != nil {
			t.Fatalf("vaulttest: pick a free port: %v", err)
		}
		err = s.launch(port)
		if err == nil {
			return s
		}
		if !errors.Is(err, errExited) || attempt == startAttempts {
			t.Fatalf("vaulttest: start vault: %v\n%s", err, s.logTail())
		}
		t.Logf("vaulttest: %v; retrying on another port", err)
	}
}

// Binary returns the path of the vault binary Start runs.
func Binary() string {
	if bin := os.Getenv(BinEnv); bin != "" {
		return bin
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(".cache", "broker", "vault-"+Version, "vault")
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "broker", "vault-"+Version, "vault")
}

// Addr returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) Addr() string { return s.addr }

// RootToken returns the dev server's root token.
func (s *Server) RootToken() string { return s.rootToken }

// Client returns a new Vault API client of the server authenticated with the root token. It
// ignores the token, namespace and headers in VAULT_* variables of the test's environment.
// On error it fails the test, so it must be called from the test's goroutine.
func (s *Server) Client() *vaultapi.Client {
	s.t.Helper()
	c, err := vaultapi.NewClient(&vaultapi.Config{Address: s.addr, Timeout: 10 * time.Second})
	if err != nil {
		s.t.Fatalf("vaulttest: vault client for %s: %v", s.addr, err)
	}
	c.SetHeaders(http.Header{vaultapi.RequestHeaderName: []string{"true"}})
	c.SetToken(s.rootToken)
	return c
}

// launch starts the process on port and waits until it is ready, or fails with errExited when
// it exits first.
func (s *Server) launch(port int) error {
	s.addr = "http://127.0.0.1:" + strconv.Itoa(port)
	s.log = filepath.Join(s.dir, fmt.Sprintf("vault-%d.log", port))
	out, err := os.Create(s.log)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer out.Close() // the child holds its own descriptor
	home := filepath.Join(s.dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	cmd := exec.Command(s.bin, "server", "-dev",
		"-dev-root-token-id="+s.rootToken,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port),
		"-dev-no-store-token",
	)
	cmd.Dir = s.dir
	cmd.Env = childEnv(home)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	s.proc = p

	err = p.WaitReady(s.ready, readyTimeout, pollInterval)
	if err == nil {
		return nil
	}
	s.proc = nil
	if errors.Is(err, proc.ErrExited) {
		return fmt.Errorf("%w (port %d)", errExited, port)
	}
	return fmt.Errorf("vault on %s not initialized and unsealed within %s", s.addr, readyTimeout)
}

// ready reports whether sys/health answers initialized and unsealed.
func (s *Server) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.addr+"/v1/sys/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var health struct {
		Initialized bool `json:"initialized"`
		Sealed      bool `json:"sealed"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		return false
	}
	return health.Initialized && !health.Sealed
}

// stop ends the server: SIGTERM to its PID, then SIGKILL to its process group if it has not
// exited within 10 s.
func (s *Server) stop(t testing.TB) {
	if s.proc == nil {
		return
	}
	p := s.proc
	s.proc = nil
	p.Stop(t, stopTimeout, "vaulttest: vault")
}

// logTail returns the end of the server's output, for failure messages.
func (s *Server) logTail() string {
	if s.log == "" {
		return "(no vault output)"
	}
	return proc.Tail(s.log, logTail, "vault output")
}

// childEnv is the test's environment without any VAULT_* variable, with HOME at home.
func childEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// freePortPair returns a loopback port P such that P and P+1 were both free a moment ago: a
// dev server listens on P and puts its cluster listener on P+1. It looks below the kernel's
// range of ephemeral ports first, where no client connection (nor its TIME-WAIT, which a busy
// test run leaves by the thousand) holds a port, and then among the ports the kernel hands out.
func freePortPair() (int, error) {
	low := ephemeralLow()
	for i := range 40 {
		port := 0 // the kernel's choice
		if i < 20 && low > 10001 {
			port = 10000 + mathrand.IntN(low-10001)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		port = l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		if err == nil {
			_ = l2.Close()
		}
		_ = l.Close()
		if err == nil {
			return port, nil
		}
	}
	return 0, errors.New("no free pair of adjacent loopback ports")
}

// ephemeralLow is the first port of the kernel's ephemeral range, 0 where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return low
}

// randomToken returns a fresh root token id.
func randomToken(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("vaulttest: random token: %v", err)
	}
	return "root-" + hex.EncodeToString(b)
}
