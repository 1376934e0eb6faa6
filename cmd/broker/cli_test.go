package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// brokerBin is the binary built once for these tests.
var brokerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "broker-cli")
	if err != nil {
		panic(err)
	}
	brokerBin = filepath.Join(dir, "broker")
	if out, err := exec.Command("go", "build", "-o", brokerBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building broker: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// broker runs the binary with extra environment variables.
func broker(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, brokerBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string // stderr must hold this
	}{
		{"no command", nil, nil, 2, "missing command"},
		{"unknown command", nil, []string{"fly"}, 2, "unknown command"},
		{"unknown flag", nil, []string{"token", "--nope"}, 2, "flag provided but not defined"},
		{"bad format", []string{"BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x"}, []string{"token", "--format", "xml"}, 2, "--format"},
		{"token without env", []string{"BROKER_URL=", "BROKER_RUN_TOKEN="}, []string{"token"}, 2, "BROKER_URL"},
		{"token, broker down", []string{"BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x"}, []string{"token"}, 1, "cannot reach broker"},
		{"serve, missing config", nil, []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, 1, "nope.yaml"},
		{"keys without dir", nil, []string{"keys", "list"}, 2, "--dir"},
		{"keys bad alg", nil, []string{"keys", "generate", "--dir", dir, "--alg", "HS256"}, 2, "HS256"},
		{"keys unknown sub", nil, []string{"keys", "burn", "--dir", dir}, 2, "unknown subcommand"},
		{"version", nil, []string{"version"}, 0, ""},
		// The provider may come before, between or after the flags.
		{"credentials, flags before the provider", []string{"BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x"},
			[]string{"credentials", "--format", "json", "aws"}, 1, "cannot reach broker"},
		{"credentials, the provider between flags", []string{"BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x"},
			[]string{"credentials", "--integration", "i", "gcp", "--format", "json"}, 1, "cannot reach broker"},
		{"credentials without a provider", nil, []string{"credentials", "--format", "json"}, 2, "missing provider"},
		{"credentials with two providers", nil, []string{"credentials", "aws", "--format", "json", "gcp"}, 2, `unexpected argument "gcp"`},
		{"credentials, unknown provider after flags", nil, []string{"credentials", "--format", "json", "ibm"}, 2, `unknown provider "ibm"`},
		{"trust, flags before the provider", []string{"BROKER_CONFIG=", "BROKER_URL="},
			[]string{"trust", "--stack", "s", "--scope", "read", "aws"}, 2, "--config FILE is required"},
		{"trust without a provider", nil, []string{"trust", "--stack", "s", "--scope", "read"}, 2, "missing provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := broker(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tc.msg)
			}
			if tc.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", r.stderr)
			}
		})
	}
}

func TestInvalidConfigReportsEveryProblemOnOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("issuer: http://example.com\nlisten: 127.0.0.1:0\nkeys:\n  algoritm: RS256\nstacks:\n  - {id: Bad_Id, space: nowhere}\n"), 0o600)
	r := broker(t, nil, "serve", "--config", path)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"bad.yaml", "issuer", "keys.algoritm", "stacks[0].id", "Bad_Id", "stacks[0].space"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q: %s", want, r.stderr)
		}
	}
}

func TestKeysGenerateListRotate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	r := broker(t, nil, "keys", "generate", "--dir", dir, "--alg", "ES256")
	if r.code != 0 || !strings.Contains(r.stdout, "generated ES256 key") {
		t.Fatalf("generate: %+v", r)
	}
	pems, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(pems) != 1 {
		t.Fatalf("%d pem files", len(pems))
	}
	if fi, _ := os.Stat(pems[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
	}
	if r := broker(t, nil, "keys", "generate", "--dir", dir); r.code != 1 || !strings.Contains(r.stderr, "rotate") {
		t.Errorf("second generate: %+v", r)
	}
	if r := broker(t, nil, "keys", "rotate", "--dir", dir, "--prepublish", "1h"); r.code != 0 || !strings.Contains(r.stdout, "rotation started") {
		t.Fatalf("rotate: %+v", r)
	}
	if r := broker(t, nil, "keys", "rotate", "--dir", dir); r.code != 1 || !strings.Contains(r.stderr, "pending") {
		t.Errorf("rotate while pending: %+v", r)
	}
	list := broker(t, nil, "keys", "list", "--dir", dir)
	if list.code != 0 {
		t.Fatalf("list: %+v", list)
	}
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "STATE") {
		t.Fatalf("list output:\n%s", list.stdout)
	}
	states := lines[1] + lines[2]
	if !strings.Contains(states, "signing") || !strings.Contains(states, "pending") {
		t.Errorf("want one signing and one pending key:\n%s", list.stdout)
	}
	// A rotation without --alg keeps the directory's algorithm.
	if strings.Count(states, "ES256") != 2 || strings.Contains(states, "RS256") {
		t.Errorf("rotate without --alg on an ES256 directory: want two ES256 keys:\n%s", list.stdout)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// daemon is a running `broker serve`.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncbuf.Buffer
	done   chan error
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(brokerBin, append([]string{"serve", "--listen", addr}, args...)...)
	cmd.Env = append(os.Environ(), "BROKER_CONFIG=")
	d := &daemon{cmd: cmd, url: "http://" + addr, stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(d.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("broker did not become ready: %s", d.stderr.String())
	return nil
}

// request is a POST for daemon.post: the path, the secret sent as a bearer token, the JSON
// body ("" sends an empty one) and out, which the answer is decoded into (nil ignores the answer).
type request struct {
	path, bearer, body string
	out                any
}

// post sends r to d as a POST and returns the answer's status; it decodes the answer into r.out
// (when not nil) without checking that it decodes.
func (d *daemon) post(t *testing.T, r request) int {
	t.Helper()
	req, _ := http.NewRequest("POST", d.url+r.path, strings.NewReader(r.body))
	req.Header.Set("Authorization", "Bearer "+r.bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if r.out != nil {
		json.NewDecoder(resp.Body).Decode(r.out)
	}
	return resp.StatusCode
}

var adminKeyLine = regexp.MustCompile(`bootstrap admin API key \(shown once, not stored\): (brk_[A-Za-z0-9_-]+)`)

func TestEmbeddedDefaultWorkerFlow(t *testing.T) {
	d := startDaemon(t)
	logs := d.stderr.String()
	first, _, _ := strings.Cut(logs, "\n")
	if !strings.Contains(first, "embedded default") {
		t.Errorf("first log line does not say it runs the embedded default: %q", first)
	}
	m := adminKeyLine.FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no bootstrap admin key on stderr:\n%s", logs)
	}
	admin := m[1]
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: admin, body: `{"stack":"demo-stack","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create run on the embedded default: %d", code)
	}
	env := []string{"BROKER_URL=" + d.url, "BROKER_RUN_TOKEN=" + created.RunToken}

	raw := broker(t, env, "token", "--audience", "sts.amazonaws.com")
	if raw.code != 0 || strings.Count(raw.stdout, ".") != 2 || strings.Count(raw.stdout, "\n") != 1 {
		t.Fatalf("token raw: %+v", raw)
	}
	claims := decodeClaims(t, strings.TrimSpace(raw.stdout))
	if claims["aud"] != "sts.amazonaws.com" || claims["callerId"] != "demo-stack" || claims["iss"] != d.url {
		t.Errorf("claims %v", claims)
	}

	js := broker(t, env, "token", "--format", "json")
	var ans struct {
		Token     string
		ExpiresAt time.Time
	}
	if js.code != 0 || json.Unmarshal([]byte(js.stdout), &ans) != nil || ans.Token == "" || ans.ExpiresAt.IsZero() {
		t.Fatalf("token json: %+v", js)
	}

	gcp := broker(t, env, "token", "--format", "gcp-executable", "--audience", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov")
	var exe map[string]any
	if gcp.code != 0 || json.Unmarshal([]byte(gcp.stdout), &exe) != nil {
		t.Fatalf("gcp-executable: %+v", gcp)
	}
	if exe["version"] != float64(1) || exe["success"] != true || exe["token_type"] != "urn:ietf:params:oauth:token-type:jwt" ||
		exe["id_token"] == "" || exe["expiration_time"].(float64) <= float64(time.Now().Unix()) {
		t.Errorf("gcp-executable output %v", exe)
	}

	if code := d.post(t, request{path: "/v1/runs/" + created.Run.ID + "/finish", bearer: admin}); code != 200 {
		t.Fatalf("finish: %d", code)
	}
	after := broker(t, env, "token")
	if after.code != 1 || !strings.Contains(after.stderr, "401") {
		t.Errorf("token after finish: %+v", after)
	}
	failed := broker(t, env, "token", "--format", "gcp-executable")
	if failed.code != 1 || !strings.Contains(failed.stdout, `"success":false`) || !strings.Contains(failed.stdout, `"code":"unauthenticated"`) {
		t.Errorf("gcp-executable failure shape: %+v", failed)
	}
	verify := broker(t, []string{"BROKER_URL=" + d.url, "BROKER_API_KEY=" + admin}, "audit", "verify")
	if verify.code != 0 || !strings.Contains(verify.stdout, "audit chain intact: ") {
		t.Errorf("audit verify: %+v", verify)
	}
	if r := broker(t, []string{"BROKER_URL=" + d.url, "BROKER_API_KEY=wrong"}, "audit", "verify"); r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Errorf("audit verify with a wrong key: %+v", r)
	}
	if strings.Contains(d.stderr.String(), created.RunToken) || strings.Contains(d.stderr.String(), strings.TrimSpace(raw.stdout)) {
		t.Error("server logs hold a run token or a JWT")
	}
}

func decodeClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	var out map[string]any
	data, err := base64URLDecode(parts[1])
	if err != nil || json.Unmarshal(data, &out) != nil {
		t.Fatalf("undecodable token payload")
	}
	return out
}

// TestGracefulShutdown sends SIGTERM while a request is half sent and checks that the request
// still completes and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "broker.yaml")
	addr := freeAddr(t)
	sum := sha256.Sum256([]byte("shutdown-secret"))
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%s
listen: %s
keys: {backend: file, dir: %s}
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
roles: [{id: orch, actions: [run:create]}]
api_keys: [{id: k, secret_sha256: %s, bindings: [{role: orch, space: root}]}]
`, addr, addr, filepath.Join(dir, "keys"), hex.EncodeToString(sum[:]))), 0o600)
	p := startBroker(t, nil, "serve", "--config", cfg)
	cmd, stderr, done := p.cmd, p.stderr, p.done
	var conn net.Conn
	for i := 0; i < 400; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			conn = c
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if conn == nil {
		t.Fatalf("server never listened: %s", stderr.String())
	}
	defer conn.Close()
	body := `{"stack":"s1","runType":"TRACKED"}`
	fmt.Fprintf(conn, "POST /v1/runs HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer shutdown-secret\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:10])
	time.Sleep(300 * time.Millisecond) // the request is now in flight
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost on SIGTERM: %v\n%s", err, stderr.String())
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 201 {
		t.Errorf("in-flight request: %d", resp.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still listening after shutdown")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown log line: %s", stderr.String())
	}
}

// TestUsageErrorIsOneLine: a usage error quoting what was given keeps to one line on stderr,
// whatever the argument holds.
func TestUsageErrorIsOneLine(t *testing.T) {
	r := broker(t, nil, "token", "-x\ny")
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}
}

// TestShutdownPastTimeoutExitsZero: a client that sent a request head and part of its body,
// then hangs, is still in flight at SIGTERM. broker serve stops within about
// http.shutdown_timeout, logs that it cut the connection, and exits 0: the stop was asked for
// (systemd marks a unit whose process exits 1 on stop as failed).
func TestShutdownPastTimeoutExitsZero(t *testing.T) {
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "broker.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("issuer: http://%s\nlisten: %s\nkeys: {backend: memory}\nspaces: [{id: root}]\nhttp: {shutdown_timeout: 1s}\n", addr, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startBroker(t, nil, "serve", "--config", cfg)
	waitListening(t, addr, p.stderr)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/runs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"st", addr)
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		took := time.Since(began)
		if took > 5*time.Second {
			t.Errorf("stop took %v with shutdown_timeout 1s", took)
		}
		if err != nil {
			t.Errorf("broker serve after SIGTERM with a hung client: %v (after %v)\n%s", err, took.Round(time.Millisecond), p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), "http.shutdown_timeout passed with requests still in flight") {
			t.Errorf("the cut connection is not logged:\n%s", p.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("broker serve did not stop")
	}
}
