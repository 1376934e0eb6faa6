package api_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// swapCatalog puts in force the catalog edit makes of the one in force, as an admin change's
// install does on its 2xx.
func swapCatalog(t *testing.T, h *runsHarness, edit func(*catalog.Objects)) {
	t.Helper()
	cur := h.live.Load().Objects()
	edit(&cur)
	next, err := catalog.Build(catalog.Input{File: cur})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// gate makes the first call of hold wait until release, closing entered as it starts to wait.
// Later calls pass at once, so that a test whose other requests reach the same hook while the
// first is held fails rather than waits on it; and t's end releases it, so that a test failing
// before it calls release does not hang on the held request.
type gate struct {
	entered chan struct{}
	release func()
	held    chan struct{}
	first   atomic.Bool
}

// newGate returns a closed gate released when t ends (make it once the server it holds a
// request of is started, so that the release comes before the server's shutdown).
func newGate(t *testing.T) *gate {
	g := &gate{entered: make(chan struct{}), held: make(chan struct{})}
	g.release = sync.OnceFunc(func() { close(g.held) })
	t.Cleanup(g.release)
	return g
}

// hold waits for release on the gate's first call; later calls return at once.
func (g *gate) hold() {
	if g.first.CompareAndSwap(false, true) {
		close(g.entered)
		<-g.held
	}
}

// holdEvent makes the first successful event of action wait, while it is being recorded, until
// release is called; entered is closed once it waits (see gate).
func holdEvent(t *testing.T, h *runsHarness, action string) (entered chan struct{}, release func()) {
	g := newGate(t)
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	h.events.before = func(e api.Event) error {
		if e.Action == action && e.Outcome == "" {
			g.hold()
		}
		return nil
	}
	return g.entered, g.release
}

// waitClosed fails t unless ch closes within 10 s.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// Credentials requests see the attachments in force when they are answered: write credentials
// whose event was being recorded when a change ending them was put in force (a token asked then
// gets 401, or credentials asked then are refused) are withheld. On the old code the check ran
// only before the event was recorded, and the credentials were handed out.
func TestCredentialsWithheldForChangeWhileRecorded(t *testing.T) {
	finishRun := func(t *testing.T, h *runsHarness, run started) {
		if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate}); code != http.StatusOK {
			t.Fatalf("finish: %d %s", code, env.Error.Message)
		}
	}
	tests := []struct {
		name string
		opts harnessOptions
		// change puts the change in force and checks that a request made now is refused.
		change func(t *testing.T, h *runsHarness, run started)
	}{
		{name: "stack deleted", opts: harnessOptions{checkVersions: true},
			change: func(t *testing.T, h *runsHarness, run started) {
				h.dropStack(t, "vpc-prod")
				if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
					t.Fatalf("a token asked after the deletion: %d, want 401", code)
				}
			}},
		{name: "write attachment removed", opts: harnessOptions{checkVersions: true},
			change: func(t *testing.T, h *runsHarness, run started) {
				swapCatalog(t, h, func(o *catalog.Objects) {
					o.Attachments = slices.DeleteFunc(o.Attachments, func(a config.Attachment) bool { return a.Integration == "aws-write" })
				})
				if code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: map[string]string{"provider": "aws"}}); code == http.StatusOK {
					t.Fatal("credentials asked after the removal: 200")
				}
			}},
		{name: "starting key deleted", opts: harnessOptions{checkVersions: true},
			change: func(t *testing.T, h *runsHarness, run started) {
				swapCatalog(t, h, func(o *catalog.Objects) {
					o.APIKeys = slices.DeleteFunc(o.APIKeys, func(k config.APIKey) bool { return k.ID == "create-update" })
				})
				if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
					t.Fatalf("a token asked after the key's deletion: %d, want 401", code)
				}
			}},
		{name: "finished", opts: harnessOptions{checkVersions: true},
			change: finishRun},
		{name: "finished, store without versions", opts: harnessOptions{versionless: true},
			change: finishRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRunsHarnessWith(t, tt.opts)
			run := h.start(t, runs.Tracked, runs.Applying)
			entered, release := holdEvent(t, h, "credentials.issue")
			type answer struct {
				Scope string            `json:"scope"`
				Env   map[string]string `json:"env"`
			}
			var ans answer
			done := make(chan int, 1)
			go func() {
				code := 0
				defer func() { done <- code }() // sent even when h.call fails t in this goroutine
				code, _ = h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: map[string]string{"provider": "aws"}, out: &ans})
			}()
			waitClosed(t, entered, "the credentials event was never recorded")
			tt.change(t, h, run)
			release()
			if code := <-done; code == http.StatusOK {
				t.Errorf("POST /v1/credentials answered 200 (scope %q, env %v) after the change was in force", ans.Scope, ans.Env)
			}
			withheld := 0
			for _, e := range h.events.all() {
				// Withheld credentials are told by "not handed out": the request the change
				// makes is refused with a denied event of its own.
				if e.Action == "credentials.issue" && e.Outcome == "denied" && strings.Contains(e.Detail, "not handed out") {
					withheld++
				}
			}
			if withheld != 1 {
				t.Errorf("%d credentials.issue events saying they were withheld, want 1", withheld)
			}
		})
	}
}
