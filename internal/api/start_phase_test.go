package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// startRows is each run type's row and write phase, written out by hand so the test does not
// trust the code it checks.
var startRows = map[runs.Type]struct {
	row   []runs.Phase
	write runs.Phase
}{
	runs.Proposed: {[]runs.Phase{"INITIALIZING", "PLANNING", "FINISHED"}, ""},
	runs.Tracked:  {[]runs.Phase{"INITIALIZING", "PLANNING", "APPLYING", "FINISHED"}, "APPLYING"},
	runs.Task:     {[]runs.Phase{"INITIALIZING", "PERFORMING", "FINISHED"}, "PERFORMING"},
	runs.Destroy:  {[]runs.Phase{"INITIALIZING", "PLANNING", "DESTROYING", "FINISHED"}, "DESTROYING"},
}

// TestStartPhaseNeedsUpdate: POST /v1/runs for every run type × starting phase × action set. A
// key holding only run:create starts runs in INITIALIZING or PLANNING; starting in the write
// phase (write credentials at once) also takes run:update on the stack's space. A key without
// run:create gets 403 whatever it asks; an unknown run type, or a phase the type cannot start
// in, gets 400.
func TestStartPhaseNeedsUpdate(t *testing.T) {
	h := newRunsHarness(t)
	keys := []struct {
		name, secret   string
		create, update bool // on prod, the stack's space
	}{
		{"create", secretCreate, true, false},
		{"create+update", secretCreateUpdate, true, true},
		{"update", secretUpdate, false, true},
		{"create, update on another space", secretSplit, true, false},
	}
	phases := []runs.Phase{"", "INITIALIZING", "PLANNING", "APPLYING", "PERFORMING", "DESTROYING", "FINISHED", "planning", "BOGUS"}
	for _, typ := range []runs.Type{"PROPOSED", "TRACKED", "TASK", "DESTROY", "tracked", ""} {
		c, known := startRows[typ]
		for _, phase := range phases {
			for _, k := range keys {
				startable := known && (phase == "" || (slices.Contains(c.row, phase) && phase != "FINISHED"))
				var want int
				switch {
				case !k.create:
					want = http.StatusForbidden
				case !startable:
					want = http.StatusBadRequest
				case phase != "" && phase != "INITIALIZING" && phase != "PLANNING" && !k.update:
					want = http.StatusForbidden
				default:
					want = http.StatusCreated
				}
				before := h.store.Len()
				var ans started
				body := map[string]string{"stack": "vpc-prod", "runType": string(typ), "phase": string(phase)}
				code, env := h.call(t, request{path: "/v1/runs", bearer: k.secret, body: body, out: &ans})
				if code != want {
					t.Errorf("%s key starting %s in %q: %d %s, want %d", k.name, typ, phase, code, env.Error.Message, want)
					continue
				}
				if code != http.StatusCreated {
					if h.store.Len() != before {
						t.Errorf("%s key starting %s in %q: refused with %d but a run was stored", k.name, typ, phase, code)
					}
					if code == http.StatusForbidden && k.create && !strings.Contains(env.Error.Message, "run:update") {
						t.Errorf("%s key starting %s in %q: message %q does not say run:update is needed", k.name, typ, phase, env.Error.Message)
					}
					continue
				}
				wantPhase, wantScope := phase, runs.Read
				if phase == "" {
					wantPhase = "INITIALIZING"
				}
				if wantPhase == c.write {
					wantScope = runs.Write
				}
				if ans.Run.Phase != wantPhase || ans.Run.Scope != wantScope || ans.RunToken == "" {
					t.Errorf("%s key starting %s in %q: run %+v, want phase %s scope %s and a token", k.name, typ, phase, ans.Run, wantPhase, wantScope)
				}
			}
		}
	}
}
