package runs_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// contractRows is contract section 4, written out by hand so the tests do not trust the code
// they check.
var contractRows = []struct {
	typ   runs.Type
	row   []runs.Phase
	write runs.Phase // "" for none
}{
	{runs.Proposed, []runs.Phase{"INITIALIZING", "PLANNING", "FINISHED"}, ""},
	{runs.Tracked, []runs.Phase{"INITIALIZING", "PLANNING", "APPLYING", "FINISHED"}, "APPLYING"},
	{runs.Task, []runs.Phase{"INITIALIZING", "PERFORMING", "FINISHED"}, "PERFORMING"},
	{runs.Destroy, []runs.Phase{"INITIALIZING", "PLANNING", "DESTROYING", "FINISHED"}, "DESTROYING"},
}

var allPhases = []runs.Phase{"INITIALIZING", "PLANNING", "APPLYING", "PERFORMING", "DESTROYING", "FINISHED"}

func TestPhasesRows(t *testing.T) {
	for _, c := range contractRows {
		got, ok := runs.Phases(c.typ)
		if !ok || !slices.Equal(got, c.row) {
			t.Errorf("Phases(%s) = %v, %v; want %v, true", c.typ, got, ok, c.row)
		}
		got[0] = "MUTATED"
		if again, _ := runs.Phases(c.typ); again[0] != runs.Initializing {
			t.Errorf("Phases(%s) returned the package's own slice", c.typ)
		}
	}
	if _, ok := runs.Phases("BOGUS"); ok {
		t.Error("Phases(BOGUS) ok = true")
	}
	if !slices.Equal(runs.AllPhases(), allPhases) {
		t.Errorf("AllPhases() = %v, want %v", runs.AllPhases(), allPhases)
	}
}

func TestCheckTransitionEveryPair(t *testing.T) {
	for _, c := range contractRows {
		for _, from := range allPhases {
			for _, to := range allPhases {
				i, j := slices.Index(c.row, from), slices.Index(c.row, to)
				want := i >= 0 && j >= 0 && j > i
				err := runs.CheckTransition(c.typ, from, to)
				switch {
				case want && err != nil:
					t.Errorf("%s %s→%s refused: %v", c.typ, from, to, err)
				case !want && err == nil:
					t.Errorf("%s %s→%s allowed, want refused", c.typ, from, to)
				case !want && !errors.Is(err, runs.ErrTransition):
					t.Errorf("%s %s→%s error %v does not wrap ErrTransition", c.typ, from, to, err)
				}
			}
		}
	}
}

func TestCheckTransitionMessages(t *testing.T) {
	tests := []struct {
		typ      runs.Type
		from, to runs.Phase
		want     string
	}{
		{runs.Tracked, runs.Applying, runs.Planning, "cannot move a TRACKED run from APPLYING to PLANNING"},
		{runs.Proposed, runs.Planning, runs.Applying, "APPLYING is not a phase of a PROPOSED run"},
		{runs.Task, runs.Planning, runs.Finished, "PLANNING is not a phase of a TASK run"},
		{runs.Destroy, runs.Finished, runs.Finished, "run is already FINISHED"},
		{runs.Tracked, runs.Planning, runs.Planning, "run is already PLANNING"},
		{"tracked", runs.Initializing, runs.Planning, "tracked is not a run type"},
		{runs.Tracked, "", runs.Planning, `"" is not a phase of a TRACKED run`},
	}
	for _, tt := range tests {
		err := runs.CheckTransition(tt.typ, tt.from, tt.to)
		if !errors.Is(err, runs.ErrTransition) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckTransition(%s, %s, %s) = %v, want ErrTransition saying %q",
				tt.typ, tt.from, tt.to, err, tt.want)
		}
	}
}

func TestCheckTransitionSkipsForward(t *testing.T) {
	if err := runs.CheckTransition(runs.Tracked, runs.Planning, runs.Finished); err != nil {
		t.Errorf("TRACKED PLANNING→FINISHED: %v", err)
	}
	if err := runs.CheckTransition(runs.Destroy, runs.Initializing, runs.Destroying); err != nil {
		t.Errorf("DESTROY INITIALIZING→DESTROYING: %v", err)
	}
}

func TestScopeOf(t *testing.T) {
	for _, c := range contractRows {
		wp, ok := runs.WritePhase(c.typ)
		if ok != (c.write != "") || wp != c.write {
			t.Errorf("WritePhase(%s) = %q, %v; want %q, %v", c.typ, wp, ok, c.write, c.write != "")
		}
		for _, p := range allPhases {
			want := runs.Read
			if p == c.write {
				want = runs.Write
			}
			if got := runs.ScopeOf(c.typ, p); got != want {
				t.Errorf("ScopeOf(%s, %s) = %s, want %s", c.typ, p, got, want)
			}
		}
	}
	for _, p := range append(slices.Clone(allPhases), "", "BOGUS") {
		if got := runs.ScopeOf(runs.Proposed, p); got != runs.Read {
			t.Errorf("ScopeOf(PROPOSED, %q) = %s: a proposed run must never write", p, got)
		}
		if got := runs.ScopeOf("BOGUS", p); got != runs.Read {
			t.Errorf("ScopeOf(BOGUS, %q) = %s, want read", p, got)
		}
	}
}

func TestCheckInitialPhase(t *testing.T) {
	for _, c := range contractRows {
		for _, p := range allPhases {
			want := slices.Contains(c.row, p) && p != runs.Finished
			err := runs.CheckInitialPhase(c.typ, p)
			if want != (err == nil) {
				t.Errorf("CheckInitialPhase(%s, %s) = %v, want ok=%v", c.typ, p, err, want)
			}
			if err != nil && !errors.Is(err, runs.ErrInvalidPhase) {
				t.Errorf("CheckInitialPhase(%s, %s) = %v, want ErrInvalidPhase", c.typ, p, err)
			}
		}
	}
	if err := runs.CheckInitialPhase("BOGUS", runs.Initializing); !errors.Is(err, runs.ErrInvalidType) {
		t.Errorf("CheckInitialPhase(BOGUS) = %v, want ErrInvalidType", err)
	}
}

func TestParseType(t *testing.T) {
	for _, c := range contractRows {
		if got, err := runs.ParseType(string(c.typ)); err != nil || got != c.typ {
			t.Errorf("ParseType(%s) = %q, %v", c.typ, got, err)
		}
	}
	for _, s := range []string{"", "tracked", "Tracked", "TRACKED ", " TRACKED", "APPLY", "PLANNING"} {
		if _, err := runs.ParseType(s); !errors.Is(err, runs.ErrInvalidType) {
			t.Errorf("ParseType(%q) error = %v, want ErrInvalidType", s, err)
		}
	}
}

func TestParsePhase(t *testing.T) {
	for _, p := range allPhases {
		if got, err := runs.ParsePhase(string(p)); err != nil || got != p {
			t.Errorf("ParsePhase(%s) = %q, %v", p, got, err)
		}
	}
	for _, s := range []string{"", "planning", "Planning", "PLANNING ", "DONE", "TRACKED"} {
		if _, err := runs.ParsePhase(s); !errors.Is(err, runs.ErrInvalidPhase) {
			t.Errorf("ParsePhase(%q) error = %v, want ErrInvalidPhase", s, err)
		}
	}
}

func TestMoveTo(t *testing.T) {
	r := runs.Run{ID: "r", RunType: runs.Tracked, Phase: runs.Planning, Scope: runs.Read}
	moved, err := r.MoveTo(runs.Applying)
	if err != nil || moved.Phase != runs.Applying || moved.Scope != runs.Write || moved.ID != "r" {
		t.Fatalf("MoveTo(APPLYING) = %+v, %v", moved, err)
	}
	if r.Phase != runs.Planning {
		t.Error("MoveTo changed its receiver")
	}
	if _, err := moved.MoveTo(runs.Planning); !errors.Is(err, runs.ErrTransition) {
		t.Errorf("backwards: %v", err)
	}
	if _, err := (runs.Run{RunType: runs.Proposed, Phase: runs.Planning}).MoveTo(runs.Applying); !errors.Is(err, runs.ErrTransition) {
		t.Errorf("PROPOSED to APPLYING: %v", err)
	}
}

func TestEffectiveScope(t *testing.T) {
	// Every type × phase × stored scope: only a phase of the type's row with exactly the scope
	// the contract gives it is consistent.
	for _, c := range contractRows {
		for _, p := range append(slices.Clone(allPhases), "", "planning") {
			for _, stored := range []runs.Scope{runs.Read, runs.Write, "", "WRITE", "admin"} {
				r := runs.Run{ID: "01RUN", RunType: c.typ, Phase: p, Scope: stored}
				want := runs.Read
				if p == c.write {
					want = runs.Write
				}
				ok := slices.Contains(c.row, p) && stored == want
				got, err := r.EffectiveScope()
				switch {
				case ok && (err != nil || got != want):
					t.Errorf("%s %q stored %q: EffectiveScope = %q, %v; want %s", c.typ, p, stored, got, err, want)
				case !ok && (err == nil || got != ""):
					t.Errorf("%s %q stored %q: EffectiveScope = %q, %v; want ErrCorrupt", c.typ, p, stored, got, err)
				case !ok && !errors.Is(err, runs.ErrCorrupt):
					t.Errorf("%s %q stored %q: error %v does not wrap ErrCorrupt", c.typ, p, stored, err)
				}
			}
		}
	}
	for _, typ := range []runs.Type{"", "BOGUS", "proposed"} {
		r := runs.Run{RunType: typ, Phase: runs.Planning, Scope: runs.Read}
		if _, err := r.EffectiveScope(); !errors.Is(err, runs.ErrCorrupt) {
			t.Errorf("run type %q: EffectiveScope error %v, want ErrCorrupt", typ, err)
		}
	}
}

func TestEffectiveScopeMessage(t *testing.T) {
	r := runs.Run{ID: "01RUN", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Write}
	_, err := r.EffectiveScope()
	want := "run 01RUN is a PROPOSED run in PLANNING, which carries scope read, but its record says write"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to say %q", err, want)
	}
	r = runs.Run{ID: "01RUN", RunType: runs.Type(strings.Repeat("X", 5000)), Phase: "\n"}
	if _, err := r.EffectiveScope(); err == nil || len(err.Error()) > 200 {
		t.Errorf("a huge stored run type gives an error of %d bytes, want it clipped", len(err.Error()))
	}
}
