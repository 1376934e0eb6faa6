package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/testutil/proc"
)

// RequireEnv is the environment variable that, set to 1, turns a missing redis-server from a
// skipped test into a failed one.
const RequireEnv = "BROKER_REQUIRE_REDIS"

// Timing of the server's life cycle.
const (
	// readyTimeout bounds the wait for a started server to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the wait for a server to exit after SIGTERM before it gets SIGKILL.
	stopTimeout = 10 * time.Second
	// rebindTimeout bounds how long Restart retries when the old port cannot be bound yet.
	rebindTimeout = 5 * time.Second
	// startAttempts is how many free ports Start tries when one is taken under its feet.
	startAttempts = 3
	// pollInterval is the pause between readiness probes.
	pollInterval = 20 * time.Millisecond
	// logTail is how many bytes of the server log a failure message quotes.
	logTail = 2048
)

// errExited reports a server process that exited before answering PING.
var errExited = errors.New("redis-server exited before it was ready")

// Server is a redis-server child process owned by one test. Its methods fail the test (t.Fatal)
// instead of returning errors, so they must be called from the test's goroutine.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	// args returns the command line of a launch on port; logName is the log file in dir.
	args    func(port int) []string
	logName string

	mu      sync.Mutex
	proc    *proc.Process // nil while stopped
	clients []*redis.Client
}

// Start starts a redis-server on a free loopback port with its data in a temporary directory,
// waits until it answers PING and stops it when the test ends. It skips the test when
// redis-server is not in PATH, or fails it when the environment variable BROKER_REQUIRE_REDIS
// is 1.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Config{})
}

// Config tunes a server that StartWith starts.
type Config struct {
	// Args are added to the command line after the defaults (for example "--replicaof",
	// "127.0.0.1", "6380" or "--cluster-enabled", "yes").
	Args []string
}

// StartWith starts a redis-server as Start does, with cfg's extra arguments.
func StartWith(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin := lookPath(t, "redis-server")
	s := &Server{t: t, bin: bin, dir: t.TempDir(), logName: "redis.log"}
	s.args = func(port int) []string { return append(s.serverArgs(port), cfg.Args...) }
	s.start()
	return s
}

// lookPath finds the program name in PATH, or skips the test (fails it when
// BROKER_REQUIRE_REDIS is 1).
func lookPath(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s not installed (not found in PATH) and %s=1: %v", name, RequireEnv, err)
		}
		t.Skipf("%s not found in PATH; install Redis to run this test (set %s=1 to fail instead)", name, RequireEnv)
	}
	return bin
}

// start launches the server on a free port, trying another when the port was taken meanwhile,
// and registers its cleanup.
func (s *Server) start() {
	t := s.t
	t.Helper()
	t.Cleanup(s.cleanup)
	for attempt := 1; ; attempt++ {
		port, err := proc.FreePort()
		if err != nil {
			t.Fatalf("redistest: pick a free port: %v", err)
		}
		s.port = port
		err = s.launch()
		if err == nil {
			return
		}
		if !errors.Is(err, errExited) || attempt == startAttempts {
			t.Fatalf("redistest: start %s: %v\n%s", filepath.Base(s.bin), err, s.logTail())
		}
		// The port was most likely taken between FreePort and the server's bind: try another.
	}
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns a redis:// URL for database 0 of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Dir returns the server's data directory (it also holds redis.log).
func (s *Server) Dir() string { return s.dir }

// PID returns the server's process id, or 0 while it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid()
}

// Stop shuts the server down gracefully: SIGTERM, then SIGKILL if it has not exited within
// 10 s. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	p := s.current()
	if p == nil {
		return
	}
	p.Stop(s.t, stopTimeout, "redistest: redis-server")
	s.forget(p)
}

// Kill ends the server abruptly with SIGKILL and waits for it to exit. Every acknowledged
// write survives in the append-only file, which is fsynced on each write.
func (s *Server) Kill() {
	s.t.Helper()
	p := s.current()
	if p == nil {
		return
	}
	p.Kill() // redis-server forks for background rewrites: the whole group goes
	s.forget(p)
}

// Restart starts the server again on the same port and data directory (stopping it first if it
// is running) and waits until it answers PING. Data written before is reloaded from the
// append-only file.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	deadline := time.Now().Add(rebindTimeout)
	for {
		err := s.launch()
		if err == nil {
			return
		}
		if !errors.Is(err, errExited) || time.Now().After(deadline) {
			s.t.Fatalf("redistest: restart %s on %s: %v\n%s", filepath.Base(s.bin), s.Addr(), err, s.logTail())
		}
		// The port may still be held (for example in TIME_WAIT): try again shortly.
		time.Sleep(100 * time.Millisecond)
	}
}

// Client returns a new go-redis client of the server for direct inspection. It is closed when
// the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: 2 * time.Second})
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return c
}

// launch starts the process and waits until it answers PING, or fails with errExited when it
// exits first.
func (s *Server) launch() error {
	cmd := exec.Command(s.bin, s.args(s.port)...)
	cmd.Dir = s.dir
	p, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	err = p.WaitReady(func() bool { return ping(s.Addr()) }, readyTimeout, pollInterval)
	if err == nil {
		return nil
	}
	s.forget(p)
	if errors.Is(err, proc.ErrExited) {
		return fmt.Errorf("%w (port %d)", errExited, s.port)
	}
	return fmt.Errorf("redis-server on %s did not answer PING within %s", s.Addr(), readyTimeout)
}

// serverArgs is the command line of a redis-server on port: loopback only, data in the
// server's directory, an append-only file fsynced on every write.
func (s *Server) serverArgs(port int) []string {
	return []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--daemonize", "no",
		"--protected-mode", "yes",
		"--logfile", filepath.Join(s.dir, s.logName),
	}
}

// current returns the running process, or nil.
func (s *Server) current() *proc.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// forget clears p as the running process, if it still is.
func (s *Server) forget(p *proc.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == p {
		s.proc = nil
	}
}

// cleanup closes the clients handed out and stops the server.
func (s *Server) cleanup() {
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		_ = c.Close()
	}
	s.Stop()
}

// logTail returns the end of the server log, for failure messages.
func (s *Server) logTail() string {
	return proc.Tail(filepath.Join(s.dir, s.logName), logTail, s.logName)
}

// ping reports whether a Redis server at addr answers PING with PONG, or with NOAUTH when it
// was started with a password.
func ping(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return false
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}
