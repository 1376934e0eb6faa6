package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"
)

// Redis is a private redis-server child: loopback only, its files in a temporary directory.
type Redis struct {
	Addr  string
	child *child
}

// StartRedis starts redis-server on a free loopback port with its data in dir and waits until
// it answers PING. Persistence is an append-only file synced every second, the usual production
// setting. It fails with ErrNotInstalled when redis-server is not on PATH.
func StartRedis(ctx context.Context, dir string) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server: %w", ErrNotInstalled)
	}
	c, addr, err := startOnFreePort(func(addr string) (*child, error) {
		_, port, _ := net.SplitHostPort(addr)
		c, err := startChild(childCommand{name: "redis-server", dir: dir, bin: bin, args: []string{
			"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "",
			"--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
			"--protected-mode", "yes",
		}})
		if err != nil {
			return nil, err
		}
		if err := c.waitReady(ctx, func() bool { return redisPing(addr) }); err != nil {
			return nil, err
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return &Redis{Addr: addr, child: c}, nil
}

// URL is the redis:// URL of database db.
func (r *Redis) URL(db int) string { return fmt.Sprintf("redis://%s/%d", r.Addr, db) }

// Pid is the server's process id.
func (r *Redis) Pid() int { return r.child.Pid() }

// Stop stops the server.
func (r *Redis) Stop() { r.child.stop() }

// redisPing reports whether the server at addr answers PING with PONG.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}
