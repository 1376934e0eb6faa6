package loadgen

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Nginx is an nginx child serving fixed files, the reference for the public documents.
type Nginx struct {
	URL   string
	child *child
}

// nginxBins are where nginx is looked for besides PATH (it often lives in /usr/sbin, which a
// non-root PATH lacks).
var nginxBins = []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"}

// findNginx returns the nginx executable, or ErrNotInstalled.
func findNginx() (string, error) {
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin, nil
	}
	for _, bin := range nginxBins {
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return bin, nil
		}
	}
	return "", fmt.Errorf("nginx: %w", ErrNotInstalled)
}

// StartNginx starts nginx in the foreground on a free loopback port with a generated minimal
// configuration (its pid, logs and temporary files in dir) serving each file of files (URL path
// to bytes) as application/json with the Cache-Control broker sends, keep-alive without a
// request limit and no access log. It fails with ErrNotInstalled when nginx is not found.
func StartNginx(ctx context.Context, dir string, files map[string][]byte) (*Nginx, error) {
	bin, err := findNginx()
	if err != nil {
		return nil, err
	}
	// nginx's workers may run as another user (nobody) when started as root: they must read
	// the served files, which are public documents.
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return nil, fmt.Errorf("nginx directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nginx directory: %w", err)
	}
	var locations strings.Builder
	i := 0
	for path, body := range files {
		name := filepath.Join(www, fmt.Sprintf("doc%d.json", i))
		i++
		if err := os.WriteFile(name, body, 0o644); err != nil {
			return nil, fmt.Errorf("nginx file: %w", err)
		}
		fmt.Fprintf(&locations, "    location = %s {\n      types { }\n      default_type application/json;\n"+
			"      add_header Cache-Control \"public, max-age=60\";\n      alias %s;\n    }\n", path, name)
	}
	c, addr, err := startOnFreePort(func(addr string) (*child, error) {
		conf := filepath.Join(dir, "nginx.conf")
		text := fmt.Sprintf(nginxConf, dir, dir, dir, dir, dir, dir, dir, addr, locations.String())
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("nginx configuration: %w", err)
		}
		c, err := startChild(childCommand{name: "nginx", dir: dir, bin: bin,
			args: []string{"-p", dir + "/", "-c", conf, "-e", filepath.Join(dir, "error.log")}})
		if err != nil {
			return nil, err
		}
		if err := c.waitReady(ctx, func() bool { return tcpAccepts(addr) }); err != nil {
			return nil, err
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return &Nginx{URL: "http://" + addr, child: c}, nil
}

// Stop stops nginx.
func (n *Nginx) Stop() { n.child.stop() }

// nginxConf is the generated configuration: the directory seven times, the listen address and
// the locations.
const nginxConf = `daemon off;
master_process on;
worker_processes auto;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %s/client_body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  server {
    listen %s;
%s  }
}
`
