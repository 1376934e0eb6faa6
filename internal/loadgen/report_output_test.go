package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// tableRow writes r as a table and returns the row of the figure named name.
func tableRow(t *testing.T, r *Report, name string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(buf.String()) {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	t.Fatalf("no row of %s:\n%s", name, buf.String())
	return ""
}

// TestTableShowsNoValueForUnmeasuredFigures checks that the table shows "-" for the value,
// the reference, the ratio and the CPU ratio of a figure that was skipped or whose measurement
// failed, whatever numbers it holds, and "-" for the ratio of a figure without one.
// Guards against: report.go:WriteTable status != StatusError dropped from the measured condition
// Guards against: report.go:WriteTable measured condition -> true
// Guards against: report.go:WriteTable f.Ratio != 0 -> true
func TestTableShowsNoValueForUnmeasuredFigures(t *testing.T) {
	cpu := &CPUCost{ServerPerOp: 10, RefPerOp: 5, Ratio: 0.5}
	broken := Figure{ID: "b", Name: "broken", Value: 3, Unit: "ms", Reference: 7, RefUnit: "ms",
		RefName: "p50", Ratio: 0.43, CPU: cpu}
	broken.Fail(errors.New("status 500"))
	skipped := Figure{ID: "s", Name: "skipped", Value: 3, Unit: "ms", Reference: 7, RefUnit: "ms",
		RefName: "p50", Ratio: 0.43, CPU: cpu}
	skipped.Skip("nginx is not installed")
	raw := Figure{ID: "r", Name: "raw", Value: 1234, Unit: "signs/s"}
	raw.Judge()
	r := &Report{Figures: []Figure{broken, skipped, raw}}
	for _, name := range []string{"broken", "skipped"} {
		row := tableRow(t, r, name)
		f := strings.Fields(row)
		if len(f) != 7 || f[1] != "-" || f[2] != "-" || f[3] != "-" || f[6] != "-" {
			t.Errorf("row %q: want - for the value, reference, ratio and CPU ratio", row)
		}
	}
	row := tableRow(t, r, "raw")
	if f := strings.Fields(row); len(f) != 8 || f[1] != "1234" || f[3] != "-" || f[4] != "-" {
		t.Errorf("row %q: want 1234 signs/s with - for the reference and the ratio", row)
	}
}

// TestFormatNumberTenHasOneDecimal checks the table's precision at its boundaries: ten and
// more with one decimal, less with two, a thousand and more with none.
// Guards against: report.go:formatNumber x >= 10 -> x > 10
func TestFormatNumberTenHasOneDecimal(t *testing.T) {
	cases := map[float64]string{9.99: "9.99", 10: "10.0", 999.94: "999.9", 1000: "1000"}
	for x, want := range cases {
		if got := formatNumber(x); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestDetailLineKeepsTheDetailBeforeTheCPU checks that a figure's detail line holds its
// detail followed by its CPU per request.
// Guards against: report.go:WriteTable detail += CPU line -> detail = CPU line
func TestDetailLineKeepsTheDetailBeforeTheCPU(t *testing.T) {
	f := Figure{ID: "x", Name: "fig", Value: 900, Unit: "tokens/s", Ratio: 0.9, Detail: "12 tokens",
		CPU: &CPUCost{ServerPerOp: 1000, DriverPerOp: 20, RefPerOp: 900, Ratio: 0.9}}
	f.Judge()
	var buf bytes.Buffer
	if err := (&Report{Figures: []Figure{f}}).WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	want := "x [info]: 12 tokens; CPU per request: server 1000 µs, load driver 20 µs; " +
		"reference 900 µs per operation"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, buf.String())
	}
}

// TestReportJSONNamesEveryField checks the JSON names of a report: its run, machine, notes
// and figures, and a figure's name, target (op, bound, on) and detail.
// Guards against: report.go:Figure Target json tag renamed
// Guards against: report.go:Figure Detail json tag renamed
// Guards against: report.go:Target Bound json tag renamed
// Guards against: report.go:Figure Name json tag renamed
// Guards against: report.go:Machine LoadAfter json tag renamed
// Guards against: report.go:Report Notes json tag given omitempty
func TestReportJSONNamesEveryField(t *testing.T) {
	f := Figure{ID: "open_loop_memory", Name: "open loop", Value: 6, Unit: "ms p99",
		Detail: "8 requests", Target: &Target{LessThan, 5, OnValue}}
	f.Judge()
	m := Machine{CPU: "c", Cores: 2, LoadBefore: "0.5", LoadAfter: "0.7"}
	r := &Report{Duration: "1m0s", Machine: m, Figures: []Figure{f}}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"started", "duration", "machine", "notes", "figures"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, buf.String())
		}
	}
	machine, _ := raw["machine"].(map[string]any)
	wantMachine := map[string]any{"cpu": "c", "cores": 2.0, "loadBefore": "0.5", "loadAfter": "0.7"}
	for k, v := range wantMachine {
		if machine[k] != v {
			t.Errorf("machine JSON %q = %v, want %v", k, machine[k], v)
		}
	}
	figs, _ := raw["figures"].([]any)
	if len(figs) != 1 {
		t.Fatalf("figures JSON %v", raw["figures"])
	}
	fig, _ := figs[0].(map[string]any)
	if fig["name"] != "open loop" || fig["detail"] != "8 requests" || fig["status"] != "fail" {
		t.Errorf("figure JSON %v: want its name, detail and status", fig)
	}
	target, _ := fig["target"].(map[string]any)
	if target["op"] != "<" || target["bound"] != 5.0 || target["on"] != "value" {
		t.Errorf("target JSON %v, want op <, bound 5, on value", fig["target"])
	}
}
