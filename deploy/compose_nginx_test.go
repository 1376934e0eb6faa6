package deploy

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/proc"
	"github.com/brokerhq/broker/internal/testutil/tooltest"
)

// Through the compose nginx, a store outage does not become a full outage: with Redis down both
// replicas answer 503 (/readyz, calls that need the store), which nginx passes on as broker's
// answer, and it keeps passing on discovery and the JWKS, which broker serves from memory; once
// Redis is back, broker's answers pass at once. (Counting a 503 as a failed attempt marks both
// replicas failed and nginx answers everything with its own 502 for fail_timeout.)
func TestComposeNginxKeepsPublicDocumentsDuringStoreOutage(t *testing.T) {
	st := startComposeStack(t)
	st.redis.Stop()
	for i := 0; i < 2; i++ { // a load balancer's or a monitor's health check, answered 503 by both
		if code, body := st.do("GET", "/readyz", nil, nil); code != 503 || !strings.Contains(body, `"unavailable"`) {
			t.Errorf("with Redis down, GET /readyz through nginx = %d %.90q, want broker's 503 unavailable", code, body)
		}
	}
	for _, path := range []string{"/.well-known/jwks", "/.well-known/openid-configuration"} {
		if code, body := st.do("GET", path, nil, nil); code != 200 {
			t.Errorf("with Redis down, %s through nginx = %d %.90q, want 200: broker serves it from memory", path, code, body)
		}
	}
	st.redis.Start()
	for _, port := range st.brokerPorts {
		if err := waitFor(func() bool { c, _ := httpGet(port, "/readyz"); return c == 200 }, 10*time.Second); err != nil {
			t.Fatalf("broker on %d not ready again after Redis came back", port)
		}
	}
	if code, body := st.do("GET", "/readyz", nil, nil); code != 200 {
		t.Errorf("Redis back and both replicas ready, yet GET /readyz through nginx = %d %.90q", code, body)
	}
}

// Through the compose nginx, a body over broker's cap (64 KiB) gets broker's answer, 413 with
// its JSON error too_large, whatever its size, declared or chunked: not nginx's HTML page of its
// own body limit (1 MiB by default).
func TestComposeNginxTooLargeIsBrokersAnswer(t *testing.T) {
	st := startComposeStack(t)
	req, err := http.NewRequest("POST", "http://127.0.0.1:"+strconv.Itoa(st.brokerPorts[0])+"/v1/runs", strings.NewReader(strings.Repeat("a", 100<<10)))
	if err != nil {
		t.Fatal(err)
	}
	_, want := roundTrip(req) // broker's own answer
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer brk_nope"}
	for _, size := range []int{100 << 10, 2 << 20, 16 << 20} {
		body := `{"stack":"x","runType":"TRACKED","pad":"` + strings.Repeat("a", size) + `"}`
		for _, chunked := range []bool{false, true} {
			var r io.Reader = strings.NewReader(body)
			if chunked { // no Content-Length: the limits count the body as it comes
				r = io.MultiReader(r)
			}
			code, ctype, got := st.post("/v1/runs", r, hdr)
			if code != 413 || ctype != "application/json" || got != want {
				t.Errorf("a %d-byte body (chunked %v) through nginx: %d %s %.120q, want broker's 413 application/json %q", len(body), chunked, code, ctype, got, want)
			}
		}
	}
}

// composeStack is the compose deployment's pieces on loopback: a real Redis, two brokers on
// deploy/compose/broker.yaml as broker-1 and broker-2 run it, and deploy/compose/nginx.conf in
// front of them (addresses mapped to loopback, paths to a temporary directory, nothing else
// changed).
type composeStack struct {
	redis       *redisServer
	brokerPorts []int
	nginxPort   int
}

// startComposeStack starts the stack; the test is skipped without nginx or redis-server (see
// tooltest.Look).
func startComposeStack(t *testing.T) *composeStack {
	t.Helper()
	ngx := tooltest.Look(t, "nginx")
	st := &composeStack{redis: startRedis(t)}
	bin := buildBroker(t)
	dir := t.TempDir()
	cfg, err := os.ReadFile("compose/broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "redis://127.0.0.1:6379/0") {
		t.Fatal("compose/broker.yaml names no redis://127.0.0.1:6379/0")
	}
	cfgPath := filepath.Join(dir, "broker.yaml")
	writeFile(t, cfgPath, []byte(strings.Replace(string(cfg), "redis://127.0.0.1:6379/0", st.redis.url(), 1)), 0o600)
	for i := 0; i < 2; i++ {
		port, err := proc.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		st.brokerPorts = append(st.brokerPorts, port)
		cmd := exec.Command(bin, "serve", "--log-format", "json", "--config", cfgPath, "--listen", "127.0.0.1:"+strconv.Itoa(port))
		cmd.Env = append(os.Environ(), "BROKER_KEK="+testKEK)
		logf, err := os.Create(filepath.Join(dir, "broker"+strconv.Itoa(i)+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		p, err := proc.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(t, 10*time.Second, "broker") })
		if err := p.WaitReady(func() bool { c, _ := httpGet(port, "/readyz"); return c == 200 }, 30*time.Second, 100*time.Millisecond); err != nil {
			t.Fatalf("broker %d: %v\n%s", i, err, proc.Tail(logf.Name(), 2000, "broker"))
		}
	}
	if st.nginxPort, err = proc.FreePort(); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile("compose/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	c := string(conf)
	for old, new := range map[string]string{
		"brokers:8081": "127.0.0.1:" + strconv.Itoa(st.brokerPorts[0]),
		"brokers:8082": "127.0.0.1:" + strconv.Itoa(st.brokerPorts[1]),
		"listen 8080;": "listen 127.0.0.1:" + strconv.Itoa(st.nginxPort) + ";",
		// As root, nginx's workers would run as nobody, who cannot write its temporary files.
		"worker_processes 1;": "worker_processes 1; user " + currentUser(t) + "; daemon off; pid " + dir + "/nginx.pid; error_log " + dir + "/nginx-error.log;",
		"http {": "http { access_log off; client_body_temp_path " + dir + "/cb; proxy_temp_path " + dir + "/pt; " +
			"fastcgi_temp_path " + dir + "/ft; uwsgi_temp_path " + dir + "/ut; scgi_temp_path " + dir + "/st;",
	} {
		if !strings.Contains(c, old) {
			t.Fatalf("compose/nginx.conf has no %q", old)
		}
		c = strings.Replace(c, old, new, 1)
	}
	ngxConf := filepath.Join(dir, "nginx.conf")
	writeFile(t, ngxConf, []byte(c), 0o644)
	np, err := proc.Start(exec.Command(ngx, "-c", ngxConf, "-p", dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		np.Stop(t, 10*time.Second, "nginx")
		if t.Failed() {
			t.Logf("nginx's error log:\n%s", proc.Tail(filepath.Join(dir, "nginx-error.log"), 2000, "nginx"))
		}
	})
	if err := np.WaitReady(func() bool { c, _ := st.do("GET", "/.well-known/jwks", nil, nil); return c == 200 }, 10*time.Second, 100*time.Millisecond); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	return st
}

// do sends a request to the stack's nginx and returns the status and body (0 and the error when
// it fails).
func (st *composeStack) do(method, path string, body io.Reader, hdr map[string]string) (int, string) {
	req, err := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(st.nginxPort)+path, body)
	if err != nil {
		return 0, err.Error()
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return roundTrip(req)
}

// post sends a POST to the stack's nginx and returns the status, the Content-Type and the body
// (0 and the error when it fails).
func (st *composeStack) post(path string, body io.Reader, hdr map[string]string) (int, string, string) {
	req, err := http.NewRequest("POST", "http://127.0.0.1:"+strconv.Itoa(st.nginxPort)+path, body)
	if err != nil {
		return 0, "", err.Error()
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// httpGet sends GET path to a broker on loopback port.
func httpGet(port int, path string) (int, string) {
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	return roundTrip(req)
}

func roundTrip(req *http.Request) (int, string) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls ok until it holds or d has passed.
func waitFor(ok func() bool, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return os.ErrDeadlineExceeded
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// buildBroker builds cmd/broker as the Dockerfile does (static, trimpath).
func buildBroker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "broker")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/broker")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// redisServer is a redis-server on a loopback port, which can be stopped and started again on
// it (the module's redistest helper needs go-redis, which this module does not require).
type redisServer struct {
	t    *testing.T
	port int
	cmd  func() *exec.Cmd
	p    *proc.Process
}

// startRedis starts a redis-server with appendonly, as compose.yaml runs it; the test is skipped
// without redis-server.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin := tooltest.Look(t, "redis-server")
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &redisServer{t: t, port: port, cmd: func() *exec.Cmd {
		return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir)
	}}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// Start starts the server (again) and waits until it accepts connections.
func (r *redisServer) Start() {
	r.t.Helper()
	p, err := proc.Start(r.cmd())
	if err != nil {
		r.t.Fatal(err)
	}
	r.p = p
	if err := p.WaitReady(func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond); err != nil {
		r.t.Fatal(err)
	}
}

// Stop stops the server; stopping a stopped one does nothing.
func (r *redisServer) Stop() { r.p.Stop(r.t, 10*time.Second, "redis-server") }

// currentUser is the name of the user running the test, and its group.
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Username + " " + g.Name
}
