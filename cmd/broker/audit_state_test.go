package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestWriteStateIsPrivateAndRoundTrips pins the --state file audit verify saves: it
// replaces whatever was at the path (a file another user could read included) with a file
// readable and writable by its owner only (0600), leaves no temporary file beside it, and
// reads back as exactly the state saved.
// Guards against: audit_anchor.go:writeState temporary file made 0644 before its rename
func TestWriteStateIsPrivateAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := audit.State{Issuer: "http://127.0.0.1:1", Count: 7, Tail: strings.Repeat("ab", 32)}
	if err := writeState(path, want); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file mode %o, want 600", mode)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %d entries (%v), want the state file alone", len(entries), err)
	}
	got, err := readState(path)
	if err != nil || got == nil || *got != want {
		t.Errorf("readState = %+v, %v; want %+v", got, err, want)
	}
}

// TestReportWarnsOnlyOfUnverifiableCheckpointsPastTheLatest pins how audit verify reports
// checkpoints whose keys the JWKS no longer publishes: one warning naming each that lies at or
// after the latest checkpoint that verifies, and a single note counting those before it, whose
// events the latest checkpoint covers, with no warning of their own.
// Guards against: audit_anchor.go:printReport every unverifiable checkpoint warned of (covered ones
// not counted)
func TestReportWarnsOnlyOfUnverifiableCheckpointsPastTheLatest(t *testing.T) {
	var out strings.Builder
	e := env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	r := audit.Report{
		Events: 30, Anchored: 20, Unanchored: 9,
		Latest: &audit.Anchor{Event: audit.Event{ID: "evt-latest"}, At: 19, KID: "k-now"},
		Unverifiable: []audit.Anchor{
			{Event: audit.Event{ID: "evt-old-a"}, At: 4, KID: "k-gone"},
			{Event: audit.Event{ID: "evt-old-b"}, At: 9, KID: "k-gone"},
			{Event: audit.Event{ID: "evt-past"}, At: 25, KID: "k-unknown"},
		},
	}
	printReport(e, r, priorState{})
	got := out.String()
	if n := strings.Count(got, "warning:"); n != 1 || !strings.Contains(got, "checkpoint evt-past (#26) is signed by key k-unknown") {
		t.Errorf("output %q: want exactly one warning, for evt-past", got)
	}
	if strings.Contains(got, "evt-old-a") || strings.Contains(got, "evt-old-b") {
		t.Errorf("output %q names a checkpoint the latest one covers", got)
	}
	if !strings.Contains(got, "note: 2 earlier checkpoints are signed by keys the JWKS no longer publishes") {
		t.Errorf("output %q: want the note counting the 2 covered checkpoints", got)
	}
}

// TestReportWarnsOfLateAnchors: a trail holding audit.late_anchor events (a replica that started
// anchored events that followed the latest checkpoint later than the schedule allows) verifies,
// but the report warns of them, counting them and naming the last one's position.
// Guards against: audit_anchor.go:printReport leaving late anchors to a reading of the trail
func TestReportWarnsOfLateAnchors(t *testing.T) {
	var out strings.Builder
	e := env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	r := audit.Report{Events: 30, Anchored: 29, LateAnchors: 2, LastLateAnchor: 17,
		Latest: &audit.Anchor{Event: audit.Event{ID: "evt-latest"}, At: 29, KID: "k-now"}}
	printReport(e, r, priorState{})
	if got := out.String(); !strings.Contains(got, "warning: 2 audit.late_anchor events (the last #18)") {
		t.Errorf("output %q: want a warning counting the 2 late anchors", got)
	}
}
