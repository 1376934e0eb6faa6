package runs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestFinishedRunMessage pins that any move out of a FINISHED run, to an earlier phase
// or to a phase its type lacks, is refused with ErrTransition saying the run is already
// FINISHED, rather than a message about the target phase.
// Guards against: phases.go:the from == Finished check removed from CheckTransition
func TestFinishedRunMessage(t *testing.T) {
	for _, to := range []runs.Phase{runs.Planning, runs.Applying, runs.Initializing, runs.Performing} {
		err := runs.CheckTransition(runs.Tracked, runs.Finished, to)
		if !errors.Is(err, runs.ErrTransition) || !strings.Contains(err.Error(), "run is already FINISHED") {
			t.Errorf("CheckTransition(TRACKED, FINISHED, %s) = %v; want ErrTransition saying the run is already FINISHED", to, err)
		}
	}
}

// TestCorruptRecordNameRendering pins how an inconsistent record's stored name is
// repeated in the error: names of more than 40 bytes are cut to their first 40 bytes followed
// by "...", and an empty name, or one holding a space, a double quote or any byte outside
// printable ASCII, is shown as a Go-quoted string; a plain name is shown as it is.
// Guards against: phases.go:maxShown raised from 40
// Guards against: phases.go:clip no longer appending "..." to a cut name
// Guards against: phases.go:clip not quoting a name holding a space (c <= ' ' to c < ' ')
// Guards against: phases.go:clip not quoting non-ASCII names (c > '~' dropped)
// Guards against: phases.go:clip not quoting the empty name
// Guards against: phases.go:clip not quoting a name holding a double quote
func TestCorruptRecordNameRendering(t *testing.T) {
	long := strings.Repeat("s", 41) + strings.Repeat("t", 200)
	for _, tc := range []struct {
		name, stored, wantSuffix string
	}{
		{"plain", "admin", "its record says admin"},
		{"long", long, "its record says " + strings.Repeat("s", 40) + "..."},
		{"empty", "", `its record says ""`},
		{"space", "read write", `its record says "read write"`},
		{"quote", `wr"ite`, `its record says "wr\"ite"`},
		{"non-ascii", "wrіte", `its record says "wrіte"`},
		{"line separator", "wr\u2028ite", `its record says "wr\u2028ite"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runs.Run{ID: "01RUN", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Scope(tc.stored)}
			_, err := r.EffectiveScope()
			if !errors.Is(err, runs.ErrCorrupt) || !strings.HasSuffix(err.Error(), tc.wantSuffix) {
				t.Errorf("EffectiveScope error = %v; want ErrCorrupt ending %q", err, tc.wantSuffix)
			}
		})
	}
}
