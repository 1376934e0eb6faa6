package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/loadgen"
)

// benchRunResult is what one in-process broker bench left behind.
type benchRunResult struct {
	stdout string
	err    error
	report *loadgen.Report // nil when no JSON report was written
}

// cancelAtFirstWrite cancels the run at its first progress line, written when the run first
// means to measure (raw signing, after a target at a closed port failed at once).
type cancelAtFirstWrite struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	text   strings.Builder
}

func (w *cancelAtFirstWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel()
	return w.text.Write(p)
}

// closedTargetArgs is a target at a closed loopback port: every request to it fails at once.
var closedTargetArgs = []string{"--target", "http://127.0.0.1:1", "--stack", "s"}

// runBenchCancelled runs broker bench in process with --json, cancelled at its first progress
// line: it plans every figure, measures nothing, prints the table and writes the JSON report.
// Without --target in args the run would start child servers: callers pass closedTargetArgs.
func runBenchCancelled(t *testing.T, vars map[string]string, args ...string) benchRunResult {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout strings.Builder
	stderr := &cancelAtFirstWrite{cancel: cancel}
	e := env{stdout: &stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
	err := runBench(ctx, e, append([]string{"--json", out}, args...))
	run := benchRunResult{stdout: stdout.String(), err: err}
	if raw, rerr := os.ReadFile(out); rerr == nil {
		var r loadgen.Report
		if jerr := json.Unmarshal(raw, &r); jerr != nil {
			t.Fatalf("--json wrote no report: %v\n%s", jerr, raw)
		}
		run.report = &r
	}
	return run
}

// benchKeyEnv is the environment of a bench with --target.
var benchKeyEnv = map[string]string{"BROKER_API_KEY": "k"}

// figureIDs lists the ids of the report's figures.
func figureIDs(r *loadgen.Report) []string {
	var ids []string
	for _, f := range r.Figures {
		ids = append(ids, f.ID)
	}
	return ids
}

// The time each figure is measured is --duration (5 s by default); --quick makes it 500 ms
// (the two together are refused). The report's notes state the time used.
// Guards against: benchDefaultDuration or benchQuickDuration changed.
// Guards against: --quick ignored, or --duration ignored.
func TestBenchDurationReachesTheRun(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "(5s each in all)"},
		{"--duration", []string{"--duration", "2s"}, "(2s each in all)"},
		{"--quick", []string{"--quick"}, "(500ms each in all)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := runBenchCancelled(t, benchKeyEnv, append(c.args, closedTargetArgs...)...)
			if !strings.Contains(run.stdout, c.want) {
				t.Errorf("the table does not say %q:\n%s", c.want, run.stdout)
			}
		})
	}
}

// --clients is the closed-loop client count of the rate figures, named in their titles; by
// default it is loadgen.DefaultClients().
// Guards against: --clients not passed to the run, or its default changed.
func TestBenchClientsReachTheRun(t *testing.T) {
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--clients", "7"}, 7},
		{nil, loadgen.DefaultClients()},
	}
	for _, c := range cases {
		run := runBenchCancelled(t, benchKeyEnv, append(c.args, closedTargetArgs...)...)
		want := fmt.Sprintf("target store, %d clients", c.want)
		if !strings.Contains(run.stdout, want) {
			t.Errorf("%v: the table does not say %q:\n%s", c.args, want, run.stdout)
		}
	}
}

// --only takes comma-separated figure ids: a list of known ids is accepted, and without
// --only no id is checked at all.
// Guards against: --only not split on commas.
// Guards against: --only split even when empty (an empty id refused).
// Guards against: an unknown figure reported as an operational error instead of a usage error.
func TestBenchOnlyTakesAList(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		usage bool
	}{
		{"no --only", nil, false},
		{"one id", []string{"--only", "rss_peak"}, false},
		{"two ids", []string{"--only", "rss_peak,catalog_10k_vs_10"}, false},
		{"unknown id in a list", []string{"--only", "rss_peak,nope"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := runBenchCancelled(t, benchKeyEnv, append(c.args, closedTargetArgs...)...)
			isUsage := errors.As(run.err, new(usageError))
			if isUsage != c.usage {
				t.Fatalf("error %v (usage error %v), want usage error %v",
					run.err, isUsage, c.usage)
			}
			if c.usage && !strings.Contains(run.err.Error(), `--only: loadgen: no figure "nope"`) {
				t.Errorf("error %v, want it to name the unknown figure", run.err)
			}
		})
	}
}

// An interrupted bench still prints its table and writes its JSON report, then fails as
// interrupted (an operational error), not as a figure that could not be measured.
// Guards against: the interruption check skipped or moved before the table or the JSON.
// Guards against: the JSON report not written.
func TestBenchInterruptedStillReports(t *testing.T) {
	run := runBenchCancelled(t, benchKeyEnv, closedTargetArgs...)
	if run.err == nil || !strings.HasPrefix(run.err.Error(), "interrupted: ") ||
		errors.As(run.err, new(usageError)) {
		t.Errorf("error %v, want interrupted", run.err)
	}
	if !strings.Contains(run.stdout, "FIGURE") {
		t.Errorf("no table on stdout:\n%s", run.stdout)
	}
	if run.report == nil || len(run.report.Figures) == 0 {
		t.Fatalf("no JSON report: %+v", run.report)
	}
}

// A JSON report that cannot be written fails the bench, saying so. /dev/full opens for
// writing (so the check before measuring passes) and refuses every write.
// Guards against: the error of writing the JSON report ignored.
func TestBenchJSONFailureFails(t *testing.T) {
	const bad = "/dev/full"
	if _, err := os.Stat(bad); err != nil {
		t.Skipf("no %s to fail the write: %v", bad, err)
	}
	run := runBenchCancelled(t, benchKeyEnv, append([]string{"--json", bad}, closedTargetArgs...)...)
	if run.err == nil || !strings.HasPrefix(run.err.Error(), "write the JSON report: ") {
		t.Errorf("error %v, want one about the JSON report", run.err)
	}
}

// With --target the figures are those of the server at that URL, whatever BROKER_URL says,
// taken as a base URL (without its trailing slash), and the API key comes from BROKER_API_KEY.
// Guards against: --target not put in place of BROKER_URL.
// Guards against: BROKER_URL of the environment read instead of --target.
// Guards against: --target ignored (child servers planned).
// Guards against: the raw --target used instead of the checked base URL.
func TestBenchTargetReplacesBrokerURL(t *testing.T) {
	vars := map[string]string{"BROKER_API_KEY": "k", "BROKER_URL": "http://127.0.0.1:2"}
	run := runBenchCancelled(t, vars, "--target", "http://127.0.0.1:1/", "--stack", "s")
	if run.report == nil {
		t.Fatalf("no report: %v", run.err)
	}
	if !strings.Contains(run.stdout, "measuring the running server at http://127.0.0.1:1;") {
		t.Errorf("the table does not name the target:\n%s", run.stdout)
	}
	ids := strings.Join(figureIDs(run.report), ",")
	if !strings.Contains(ids, "token_rs256_target") {
		t.Errorf("figures %s, want the target's", ids)
	}
}

// benchFigure is a judged figure of id with value against an at-least bound of 1.
func benchFigure(id string, value float64) loadgen.Figure {
	f := loadgen.Figure{ID: id, Value: value,
		Target: &loadgen.Target{Op: loadgen.AtLeast, Bound: 1, On: loadgen.OnValue}}
	f.Judge()
	return f
}

// The verdict counts the failing figures and names the first one; a figure that could not be
// measured outweighs one below its target; a figure without a target (info) fails nothing.
// Guards against: errors checked after the figures below target.
// Guards against: the count or the first figure named wrong (below target or not measured).
// Guards against: info figures counted as failures.
func TestBenchOutcomeMessages(t *testing.T) {
	broken := loadgen.Figure{ID: "broken2"}
	broken.Fail(errors.New("no server"))
	broken3 := loadgen.Figure{ID: "broken3"}
	broken3.Fail(errors.New("no redis"))
	info := loadgen.Figure{ID: "info", Value: 3}
	info.Judge()
	cases := []struct {
		name string
		figs []loadgen.Figure
		want string // "" for success
	}{
		{"two below", []loadgen.Figure{benchFigure("ok", 2), benchFigure("low1", 0.5),
			benchFigure("low2", 0.1)}, "2 figure(s) below target, the first low1 (value >= 1)"},
		{"error beats below", []loadgen.Figure{benchFigure("low1", 0.5), broken},
			"1 figure(s) could not be measured, the first broken2: no server"},
		{"two errors", []loadgen.Figure{broken, broken3},
			"2 figure(s) could not be measured, the first broken2: no server"},
		{"info passes", []loadgen.Figure{info, benchFigure("ok", 2)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := benchOutcome(&loadgen.Report{Figures: c.figs}, belowFails)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// writeBenchJSON writes the whole report, readable back, and fails with a clear message when
// the file cannot be created.
// Guards against: the report not written, or a failure to create the file ignored.
func TestWriteBenchJSON(t *testing.T) {
	dir := t.TempDir()
	report := &loadgen.Report{Figures: []loadgen.Figure{benchFigure("one", 2)}}
	path := filepath.Join(dir, "r.json")
	if err := writeBenchJSON(path, report); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back loadgen.Report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Figures) != 1 ||
		back.Figures[0].ID != "one" {
		t.Errorf("read back %+v (%v) from %s", back, err, raw)
	}
	err = writeBenchJSON(filepath.Join(dir, "missing", "r.json"), report)
	if err == nil || !strings.HasPrefix(err.Error(), "write the JSON report: ") {
		t.Errorf("error %v, want one about the JSON report", err)
	}
}

// targetSeen is what a fake target saw of the run bench asked it to create.
type targetSeen struct {
	mu    sync.Mutex
	auth  string
	stack string
}

// With --target the runs measured are created on --stack, with the API key of
// BROKER_API_KEY.
// Guards against: the stack or the API key not passed to the run.
func TestBenchTargetGetsStackAndKey(t *testing.T) {
	seen := &targetSeen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/runs" {
			var body struct {
				Stack string `json:"stack"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			seen.mu.Lock()
			seen.auth, seen.stack = r.Header.Get("Authorization"), body.Stack
			seen.mu.Unlock()
		}
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	vars := map[string]string{"BROKER_API_KEY": "bench-key"}
	run := runBenchCancelled(t, vars, "--target", srv.URL, "--stack", "bench-stack")
	if run.report == nil {
		t.Fatalf("no report: %v", run.err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.auth != "Bearer bench-key" || seen.stack != "bench-stack" {
		t.Errorf("run created with %q on stack %q, want Bearer bench-key on bench-stack",
			seen.auth, seen.stack)
	}
}
