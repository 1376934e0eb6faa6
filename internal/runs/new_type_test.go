package runs_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestNewRecordsRunType pins that a started run carries the run type it was started
// with, so the phase machine later applied to it is its own type's row: a PROPOSED run can
// never be moved into a write phase, whatever phase it starts in.
// Guards against: new.go:RunType set to a fixed type instead of cfg.Type
func TestNewRecordsRunType(t *testing.T) {
	for _, typ := range runs.Types() {
		run, _, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: typ, TTL: time.Hour})
		if err != nil {
			t.Fatalf("New(%s): %v", typ, err)
		}
		if run.RunType != typ {
			t.Errorf("New(%s) recorded run type %s", typ, run.RunType)
		}
	}
	run, _, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Proposed, Phase: runs.Planning, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := run.MoveTo(runs.Applying); !errors.Is(err, runs.ErrTransition) {
		t.Errorf("a new PROPOSED run moved to APPLYING: %+v, %v; want ErrTransition", moved, err)
	}
}

// TestTokenPrefixIsBrkRun pins the literal prefix every run token starts with,
// "brk_run_", which secret scanners and log filters match on.
// Guards against: new.go:TokenPrefix changed
func TestTokenPrefixIsBrkRun(t *testing.T) {
	_, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Task, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "brk_run_") || runs.TokenPrefix != "brk_run_" {
		t.Errorf("token %q / TokenPrefix %q; want both to start brk_run_", token, runs.TokenPrefix)
	}
}

// TestRunJSONFields pins the JSON field names a run is returned under: id, space, stack,
// runType, phase, scope, createdAt, expiresAt, and createdBy, which is left out when empty.
// Guards against: run.go:createdBy no longer omitted when empty
// Guards against: run.go:runType renamed in JSON
// Guards against: run.go:expiresAt left out of JSON
func TestRunJSONFields(t *testing.T) {
	base := []string{"createdAt", "expiresAt", "id", "phase", "runType", "scope", "space", "stack"}
	for _, tc := range []struct {
		createdBy string
		want      []string
	}{
		{"", base},
		{"ak_ci", append(slices.Clone(base), "createdBy")},
	} {
		run := runs.Run{ID: "01RUN", Space: "prod", Stack: "vpc", RunType: runs.Tracked, Phase: runs.Applying,
			Scope: runs.Write, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour), CreatedBy: tc.createdBy}
		raw, err := json.Marshal(run)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range fields {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Run with CreatedBy %q marshals fields %v, want %v", tc.createdBy, got, tc.want)
		}
	}
}

// TestRunTypeNames pins the wire names of the run types: PROPOSED, TRACKED, TASK and
// DESTROY, each parsed to its constant.
// Guards against: run.go:the DESTROY constant's name changed
func TestRunTypeNames(t *testing.T) {
	for name, want := range map[string]runs.Type{"PROPOSED": runs.Proposed, "TRACKED": runs.Tracked, "TASK": runs.Task, "DESTROY": runs.Destroy} {
		if got, err := runs.ParseType(name); err != nil || got != want {
			t.Errorf("ParseType(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestVersionIsZeroNeedsEveryField pins that only the Version with no field set
// requires nothing: one naming just a token or just a digest is not zero.
// Guards against: version.go:IsZero looking at the run id only
func TestVersionIsZeroNeedsEveryField(t *testing.T) {
	if !(runs.Version{}).IsZero() {
		t.Error("the zero Version is not zero")
	}
	for _, v := range []runs.Version{{Token: runs.HashToken("brk_run_x")}, {Digest: "1"}, {ID: "01RUN"}} {
		if v.IsZero() {
			t.Errorf("Version %+v reports zero", v)
		}
	}
}
