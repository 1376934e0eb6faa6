package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// deletedSpaceRootSecret is the secret of the key dropSpaceProd adds: run:read and run:update on root.
const deletedSpaceRootSecret = "root-reader-key"

// dropSpaceProd puts in force a catalog without space prod and everything in it (its stack,
// integrations, attachments and the keys bound there), as deleting them through the API would,
// plus a key bound on root with the harness's role mover (run:update, run:read).
func dropSpaceProd(t *testing.T, h *runsHarness) {
	t.Helper()
	objs := h.live.Load().Objects()
	inProd := func(s string) bool { return s == "prod" }
	objs.Spaces = slices.DeleteFunc(objs.Spaces, func(s config.Space) bool { return inProd(s.ID) })
	objs.Stacks = slices.DeleteFunc(objs.Stacks, func(s config.Stack) bool { return inProd(s.Space) })
	objs.Integrations = slices.DeleteFunc(objs.Integrations,
		func(in config.Integration) bool { return inProd(in.Space) })
	objs.Attachments = nil
	objs.APIKeys = slices.DeleteFunc(objs.APIKeys, func(k config.APIKey) bool {
		return slices.ContainsFunc(k.Bindings, func(b config.Binding) bool { return inProd(b.Space) })
	})
	objs.APIKeys = append(objs.APIKeys, config.APIKey{ID: "root-reader",
		SecretSHA256: config.HashAPIKeySecret(deletedSpaceRootSecret),
		Bindings:     []config.Binding{{Role: "mover", Space: config.RootSpace}}})
	next, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// TestRunOfDeletedSpaceReachesRootKey: a binding on root covers every space (contract
// section 7), so a key holding run:read and run:update on root reads (GET /v1/runs/{id}) and
// finishes (POST /v1/runs/{id}/finish) every stored run, also one whose space was deleted
// since: the run exists, and "No run with id" is not the answer.
func TestRunOfDeletedSpaceReachesRootKey(t *testing.T) {
	for _, tc := range []struct{ name, method, suffix string }{
		{"reads", "GET", ""},
		{"finishes", "POST", "/finish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			dropSpaceProd(t, h)
			path := "/v1/runs/" + run.Run.ID + tc.suffix
			code, env := h.call(t, request{method: tc.method, path: path, bearer: deletedSpaceRootSecret})
			if code != http.StatusOK {
				t.Errorf("%s %s by a key bound on root, after the run's space was deleted: "+
					"%d %s, want 200", tc.method, path, code, env.Error.Message)
			}
		})
	}
}
