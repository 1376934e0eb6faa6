package api_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// versionlessStore is a runs.Store that gives no Version (as redisstore's store on a Redis Cluster,
// whose GetByTokenVersion returns the zero Version and which has no run cache).
type versionlessStore struct{ runs.Store }

func (p versionlessStore) GetByTokenVersion(ctx context.Context, token runs.TokenHash) (runs.Run, runs.Version, error) {
	run, err := p.Store.GetByToken(ctx, token)
	return run, runs.Version{}, err
}

// On a run store that gives no Version (a Redis Cluster), no condition guards a token's event:
// a write token whose request read the run in APPLYING, and was being signed when
// POST /v1/runs/{id}/finish answered 200, is not handed out. The run is read again once the
// token is recorded; the answer is 401 and the trail says the token was not handed out.
func TestTokenWithheldWhenRunFinishedWhileSigningWithoutVersion(t *testing.T) {
	g := newGatedSigner()
	h := newRunsHarnessWith(t, harnessOptions{wrapSigner: g.wrap, versionless: true})
	run := h.start(t, runs.Tracked, runs.Applying)
	code, scope := tokenWhileSigning(t, h, run, g, func() {
		if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate}); code != http.StatusOK {
			t.Fatalf("finish: %d %s", code, env.Error.Message)
		}
	})
	if code != http.StatusUnauthorized {
		t.Errorf("POST /v1/token answered %d (token scope %q) after the run's finish answered 200, want 401", code, scope)
	}
	assertWithheld(t, h)
}

// Deleting a stack ends its runs, whose tokens get 401. A token's event is conditioned on the
// run record, not on the catalog: a write token being signed when the stack left the catalog in
// force is not handed out (401, and the trail says so), on the in-memory store with versions.
func TestTokenWithheldWhenStackDeletedWhileSigning(t *testing.T) {
	g := newGatedSigner()
	h := newRunsHarnessWith(t, harnessOptions{wrapSigner: g.wrap, checkVersions: true})
	run := h.start(t, runs.Tracked, runs.Applying)
	code, scope := tokenWhileSigning(t, h, run, g, func() {
		h.dropStack(t, "vpc-prod")
		if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
			t.Fatalf("a token asked after the deletion: %d, want 401", code)
		}
	})
	if code != http.StatusUnauthorized {
		t.Errorf("POST /v1/token answered %d (token scope %q) for a run whose stack was deleted before the token was handed out, want 401", code, scope)
	}
	assertWithheld(t, h)
}

// tokenWhileSigning asks for a token of run, runs during while its signature is held by g, and
// returns the answer's status and the scope of the token it carried ("" for none).
func tokenWhileSigning(t *testing.T, h *runsHarness, run started, g *gatedSigner, during func()) (int, string) {
	t.Helper()
	g.arm()
	// Registered after the harness's server: runs before its Close, which waits for the
	// held request.
	t.Cleanup(g.open)
	type result struct {
		code int
		tok  string
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() { done <- res }() // sent even when h.call fails t in this goroutine
		var ans struct {
			Token string `json:"token"`
		}
		res.code, _ = h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}, out: &ans})
		res.tok = ans.Token
	}()
	select {
	case <-g.signing:
	case <-time.After(10 * time.Second):
		t.Fatal("the token was never signed")
	}
	during()
	g.open()
	res := <-done
	return res.code, scopeOf(res.tok)
}

// assertWithheld checks that the trail's last event says a token was not handed out.
func assertWithheld(t *testing.T, h *runsHarness) {
	t.Helper()
	events := h.events.all()
	last := events[len(events)-1]
	if last.Action != "token.issue" || last.Outcome != "denied" || !strings.Contains(last.Detail, "not handed out") {
		t.Errorf("the trail ends with %s %s %q, want the token.issue not handed out", last.Action, last.Outcome, last.Detail)
	}
}

// scopeOf is the scope claim of jwt, "" when it has none.
func scopeOf(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Scope string `json:"scope"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Scope
}

// gatedSigner wraps signers so that, once armed, the first signature closes signing and waits
// until release is closed; later signatures pass at once (as a gate's calls do).
type gatedSigner struct {
	first, armed     atomic.Bool
	signing, release chan struct{}
	open             func() // closes release, once
}

func newGatedSigner() *gatedSigner {
	g := &gatedSigner{signing: make(chan struct{}), release: make(chan struct{})}
	g.open = sync.OnceFunc(func() { close(g.release) })
	return g
}

func (g *gatedSigner) arm() { g.armed.Store(true) }

func (g *gatedSigner) wrap(s crypto.Signer) crypto.Signer {
	return stepSigner{Signer: s, step: func() error {
		if g.armed.Load() && g.first.CompareAndSwap(false, true) {
			close(g.signing)
			<-g.release
		}
		return nil
	}}
}

// A run that only moved on to its next phase while its token was signed is still live: the
// token of the old phase is withheld, and one of the new phase is minted and handed out (200,
// write scope once APPLYING), on a store with versions and on one without.
func TestTokenOfARunMovedOnWhileSigningIsMintedAgain(t *testing.T) {
	for _, opts := range []harnessOptions{{checkVersions: true}, {versionless: true}} {
		g := newGatedSigner()
		opts.wrapSigner = g.wrap
		h := newRunsHarnessWith(t, opts)
		run := h.start(t, runs.Tracked, runs.Planning)
		code, scope := tokenWhileSigning(t, h, run, g, func() {
			if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretCreateUpdate,
				body: map[string]string{"phase": "APPLYING"}}); code != http.StatusOK {
				t.Fatalf("phase: %d %s", code, env.Error.Message)
			}
		})
		if code != http.StatusOK || scope != "write" {
			t.Errorf("versionless %v: POST /v1/token of a run moved PLANNING->APPLYING while its token was signed: %d (scope %q), want 200 with write scope",
				opts.versionless, code, scope)
		}
	}
}
