package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// A phase move is stored only while its key may still make it: a move to APPLYING (write scope)
// authorized before the key was deleted, or its role lost run:update, and stored after, is
// refused, and the run stays in PLANNING. On the old code it landed, and the run minted write
// tokens on the rights of a key the admin had just removed.
func TestPhaseMoveRefusedForKeyChangedMeanwhile(t *testing.T) {
	tests := []struct {
		name string
		edit func(*catalog.Objects)
		want int
	}{
		{name: "key deleted", want: http.StatusUnauthorized, edit: func(o *catalog.Objects) {
			o.APIKeys = slices.DeleteFunc(o.APIKeys, func(k config.APIKey) bool { return k.ID == "update" })
		}},
		{name: "role narrowed", want: http.StatusForbidden, edit: func(o *catalog.Objects) {
			for i, r := range o.Roles {
				if r.ID == "mover" {
					o.Roles[i].Actions = []string{config.ActionRunRead}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRunsHarnessWith(t, harnessOptions{checkVersions: true})
			run := h.start(t, runs.Tracked, runs.Planning)
			g := newGate(t)
			h.flaky.set(nil, nil, func(string) { g.hold() })
			done := make(chan int, 1)
			go func() {
				code := 0
				defer func() { done <- code }() // sent even when h.call fails t in this goroutine
				code, _ = h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretUpdate, body: map[string]string{"phase": "APPLYING"}})
			}()
			waitClosed(t, g.entered, "the move never reached the store")
			swapCatalog(t, h, tt.edit)
			g.release()
			if code := <-done; code != tt.want {
				t.Errorf("the move asked before the change answered %d after it, want %d", code, tt.want)
			}
			var tok struct {
				Token string `json:"token"`
			}
			if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}, out: &tok}); code != http.StatusOK || scopeOf(tok.Token) != "read" {
				t.Errorf("token after the refused move: %d, scope %q; want 200 and read", code, scopeOf(tok.Token))
			}
		})
	}
}
