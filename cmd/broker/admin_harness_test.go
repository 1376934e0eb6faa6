package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/server"
)

// Secrets of the API keys of liveBase; the configuration holds only their SHA-256.
const (
	liveAdmin   = "live-admin-secret"  // admin on root
	liveReader  = "live-reader-secret" // reader (run:read) on root
	liveBaseKey = "live-base-secret"   // admin on the space base only
)

// liveBase is the file of the live broker the administration commands talk to: the root space,
// a space that belongs to the file (read-only through the API), and three keys.
const liveBase = `issuer: http://127.0.0.1:8080
spaces:
  - {id: root}
  - {id: base, parent: root, labels: [file]}
roles:
  - {id: admin, actions: [run:create, run:read, run:update, audit:read, space:admin]}
  - {id: reader, actions: [run:read]}
api_keys:
  - {id: admin, secret_sha256: SHA_ADMIN, bindings: [{role: admin, space: root}]}
  - {id: reader, secret_sha256: SHA_READER, bindings: [{role: reader, space: root}]}
  - {id: base-admin, secret_sha256: SHA_BASE, bindings: [{role: admin, space: base}]}
`

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// liveFile is liveBase with its key hashes filled in, followed by extra (more objects).
func liveFile(extra string) string {
	r := strings.NewReplacer("SHA_ADMIN", sha(liveAdmin), "SHA_READER", sha(liveReader), "SHA_BASE", sha(liveBaseKey))
	return r.Replace(liveBase) + extra
}

// liveBroker is a broker replica served in-process, counting the requests that could change
// something (any method but GET).
type liveBroker struct {
	url    string
	mu     sync.Mutex
	writes []string // "PUT /v1/spaces/prod If-Match=\"1\"", "PUT /v1/stacks/s If-Match= If-None-Match=*"
}

// startLive serves the configuration text in-process.
func startLive(t *testing.T, file string) *liveBroker {
	t.Helper()
	cfg, err := config.Parse("live.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	b := &liveBroker{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			b.mu.Lock()
			w := fmt.Sprintf("%s %s If-Match=%s", r.Method, r.URL.Path, r.Header.Get("If-Match"))
			if none := r.Header.Get("If-None-Match"); none != "" {
				w += " If-None-Match=" + none
			}
			b.writes = append(b.writes, w)
			b.mu.Unlock()
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ts.Close(); srv.Close() })
	b.url = ts.URL
	return b
}

// writeCount is how many changing requests reached the broker so far.
func (b *liveBroker) writeCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.writes)
}

func (b *liveBroker) writesSince(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.writes[n:]...)
}

// cli runs one broker command line in-process against b with the API key secret.
func (b *liveBroker) cli(t *testing.T, secret string, args ...string) result {
	t.Helper()
	vars := map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": secret}
	return runCLI(vars, args...)
}

// runCLI runs one command line in-process with exactly the environment vars.
func runCLI(vars map[string]string, args ...string) result {
	var out, errb bytes.Buffer
	code := run(context.Background(), env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// writeFile writes content to a new file and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// put sends a PUT through the API with the admin key, as another client would, and fails the
// test unless it is answered 200 or 201.
func (b *liveBroker) put(t *testing.T, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, b.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+liveAdmin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, msg)
	}
}
