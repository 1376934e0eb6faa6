package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// reloadFile is the configuration of TestReloadOnSIGHUP; STACKS is replaced by the stacks.
const reloadFile = `issuer: http://ADDR
listen: ADDR
keys: {backend: file, dir: KEYDIR, algorithm: ES256}
spaces: [{id: root}, {id: prod, parent: root}]
stacks: [STACKS]
roles: [{id: ops, actions: [run:create, run:read, run:update, audit:read]}]
api_keys: [{id: ops, secret_sha256: SHA, bindings: [{role: ops, space: root}]}]
`

// reloadSecret is the API key secret of reloadFile.
const reloadSecret = "reload-secret"

// reloadServer is broker serve on a configuration file the test rewrites and signals.
type reloadServer struct {
	path   string
	fill   *strings.Replacer
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	d      *daemon
}

// reloadStacks is reloadFile with stacks as its list of stacks.
func reloadStacks(stacks string) string { return strings.Replace(reloadFile, "STACKS", stacks, 1) }

// startReloadServer starts broker serve on reloadStacks(stacks), ready.
func startReloadServer(t *testing.T, stacks string) *reloadServer {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	sum := sha256.Sum256([]byte(reloadSecret))
	s := &reloadServer{path: filepath.Join(dir, "broker.yaml"), stderr: &syncbuf.Buffer{}, d: &daemon{url: "http://" + addr},
		fill: strings.NewReplacer("ADDR", addr, "KEYDIR", filepath.Join(dir, "keys"), "SHA", hex.EncodeToString(sum[:]))}
	s.write(t, reloadStacks(stacks))
	s.cmd = exec.Command(brokerBin, "serve", "--config", s.path, "--log-format", "json")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	waitReady(t, s.d.url)
	return s
}

// write replaces the file by text, its ADDR, KEYDIR and SHA filled in. It is written aside and
// renamed, as an editor or a deployment would, so a reload never reads half a file.
func (s *reloadServer) write(t *testing.T, text string) {
	t.Helper()
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s.fill.Replace(text)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		t.Fatal(err)
	}
}

// TestReloadOnSIGHUP runs broker serve with a file and a steady load of token requests. A
// valid edit (a new stack) applied with SIGHUP is in force without one request failing; an
// invalid edit is refused whole, the old catalog stays, and the refusal is logged and audited.
func TestReloadOnSIGHUP(t *testing.T) {
	srv := startReloadServer(t, "{id: s1, space: prod}")
	const secret = reloadSecret
	cmd, stderr, d := srv.cmd, srv.stderr, srv.d
	write := func(stacks string) { srv.write(t, reloadStacks(stacks)) }

	newRun := func(stack string) (string, int) {
		var created struct{ RunToken string }
		code := d.post(t, request{path: "/v1/runs", bearer: secret, body: `{"stack":"` + stack + `","runType":"TRACKED"}`, out: &created})
		return created.RunToken, code
	}
	token, code := newRun("s1")
	if code != 201 {
		t.Fatalf("create run: %d", code)
	}

	// The load: workers asking for tokens until told to stop (at most maxPerWorker each).
	const workers, maxPerWorker = 4, 3000
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range maxPerWorker {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", d.url+"/v1/token", strings.NewReader(`{"audience":"load"}`))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, body))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)
	// loaded waits until the load has made n more requests than it had at the call.
	loaded := func(n int64) {
		t.Helper()
		base := ok.Load() + failed.Load()
		deadline := time.Now().Add(20 * time.Second)
		for ok.Load()+failed.Load() < base+n {
			if time.Now().After(deadline) {
				t.Fatalf("the load stalled at %d requests", ok.Load()+failed.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	loaded(100)

	// A valid edit: a new stack, in force after SIGHUP while the load goes on.
	if _, code := newRun("s2"); code != 404 {
		t.Fatalf("a run of s2 before the reload: %d", code)
	}
	write("{id: s1, space: prod}, {id: s2, space: prod}")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		if _, code := newRun("s2"); code == 201 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the stack added to the file gets no run 10 s after SIGHUP:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the reloaded stack got a run %v after SIGHUP", time.Since(start).Round(time.Millisecond))
	loaded(100)

	// An invalid edit: refused whole, the running catalog stays.
	write("{id: s1, space: prod}, {id: Bad_Id, space: nowhere}")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var refusal map[string]any
	start = time.Now()
	for refusal == nil {
		for _, e := range reloadEvents(t, d.url, secret) {
			if e["outcome"] == "denied" {
				refusal = e
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no config.reload refusal in the audit trail 10 s after SIGHUP:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	loaded(100)
	stopLoad()

	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d token requests failed across the reloads; first: %v", n, n+ok.Load(), firstFailure.Load())
	}
	t.Logf("%d token requests, none failed", ok.Load())
	if _, code := newRun("s2"); code != 201 {
		t.Errorf("after the refused reload, the stack of the running catalog gets %d", code)
	}
	if _, code := newRun("s1"); code != 201 {
		t.Errorf("after the refused reload, s1 gets %d", code)
	}
	detail, _ := refusal["detail"].(string)
	for _, want := range []string{"stacks[1].id", "Bad_Id", "stacks[1].space", "nowhere"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the refusal's detail does not name %q: %s", want, detail)
		}
	}
	events := reloadEvents(t, d.url, secret)
	if len(events) != 2 || events[0]["outcome"] != "success" || events[0]["actor"] != "system:config" {
		t.Errorf("config.reload events: %v", events)
	} else if detail, _ := events[0]["detail"].(string); !strings.HasSuffix(detail, ": added stack s2") {
		t.Errorf("the reload's event does not name what changed: %q", detail)
	}
	if logs := stderr.String(); !strings.Contains(logs, "config reload refused") || !strings.Contains(logs, "config reloaded") {
		t.Errorf("the reloads are not logged:\n%s", logs)
	}
}

// reloadEvents returns the config.reload events of the audit trail, oldest first.
func reloadEvents(t *testing.T, base, secret string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for page := 0; page < 1000; page++ {
		q := url.Values{"space": {"root"}, "limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		req, _ := http.NewRequest("GET", base+"/v1/audit?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Events []map[string]any `json:"events"`
			Next   string           `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("audit listing: %d, %v", resp.StatusCode, err)
		}
		for _, e := range ans.Events {
			if e["action"] == "config.reload" {
				out = append(out, e)
			}
		}
		if ans.Next == "" {
			return out
		}
		after = ans.Next
	}
	t.Fatal("audit paging never ends")
	return nil
}

// TestSIGHUPNeverEndsServe: a SIGHUP (`systemctl reload`) never ends broker serve: not while it
// starts, before its server exists (the reload waits for it), and not while it drains after a
// SIGTERM with a request in flight.
func TestSIGHUPNeverEndsServe(t *testing.T) {
	start := func(t *testing.T) (brokerProcess, string) {
		t.Helper()
		addr := freeAddr(t)
		cfg := filepath.Join(t.TempDir(), "broker.yaml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("issuer: http://%s\nlisten: %s\nkeys: {backend: memory}\nspaces: [{id: root}]\n", addr, addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		return startBroker(t, nil, "serve", "--config", cfg), addr
	}
	alive := func(t *testing.T, p brokerProcess, when string) {
		t.Helper()
		select {
		case err := <-p.done:
			t.Fatalf("broker serve ended on a SIGHUP sent %s: %v\n%s", when, err, p.stderr.String())
		case <-time.After(time.Second):
		}
	}
	t.Run("while starting", func(t *testing.T) {
		p, addr := start(t)
		waitForStderr(t, p, "starting with configuration file")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		alive(t, p, "while it starts")
		waitListening(t, addr, p.stderr)
	})
	t.Run("while draining", func(t *testing.T) {
		p, addr := start(t)
		waitListening(t, addr, p.stderr)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/runs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"st", addr)
		time.Sleep(200 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		alive(t, p, "while it drains a request")
	})
}
