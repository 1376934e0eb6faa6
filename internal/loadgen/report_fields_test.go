package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportJSONCarriesWhatWasMeasured pins the JSON a figure is written as: its value, reference,
// ratio and CPU comparison under their names, so a --json reader gets what was measured.
// Guards against: report.go:85 Reference json tag dropped
// Guards against: report.go:89 Ratio json tag dropped
func TestReportJSONCarriesWhatWasMeasured(t *testing.T) {
	f := Figure{ID: "token_rs256_memory", Name: "n", Value: 900, Unit: "tokens/s", Reference: 1000, RefUnit: "signs/s", RefName: "raw RS256",
		Ratio: 0.9, CPU: &CPUCost{ServerPerOp: 1000, DriverPerOp: 20, RefPerOp: 900, Ratio: 0.9}, Target: &Target{AtLeast, 0.85, OnRatio}}
	f.Judge()
	var buf bytes.Buffer
	if err := (&Report{Figures: []Figure{f}}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Figures []map[string]any `json:"figures"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	got := raw.Figures[0]
	for k, v := range map[string]any{"id": "token_rs256_memory", "value": 900.0, "unit": "tokens/s", "reference": 1000.0,
		"referenceUnit": "signs/s", "referenceName": "raw RS256", "ratio": 0.9, "status": "pass"} {
		if got[k] != v {
			t.Errorf("JSON %q = %v, want %v (figure %v)", k, got[k], v, got)
		}
	}
	cpu, _ := got["cpu"].(map[string]any)
	if cpu["ratio"] != 0.9 || cpu["serverMicrosPerOp"] != 1000.0 || cpu["referenceMicrosPerOp"] != 900.0 || cpu["driverMicrosPerOp"] != 20.0 {
		t.Errorf("JSON cpu = %v", cpu)
	}
}

// TestReportTableShowsTheCPURatio pins the table's CPU RATIO column: the CPU comparison's ratio,
// not one of its per-operation times.
// Guards against: report.go:210 f.CPU.Ratio -> f.CPU.RefPerOp
func TestReportTableShowsTheCPURatio(t *testing.T) {
	f := Figure{ID: "x", Name: "fig", Value: 900, Unit: "tokens/s", Ratio: 0.9, CPU: &CPUCost{ServerPerOp: 1000, DriverPerOp: 20, RefPerOp: 870, Ratio: 0.87}}
	f.Judge()
	var buf bytes.Buffer
	if err := (&Report{Figures: []Figure{f}}).WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(buf.String()) {
		if strings.HasPrefix(line, "fig ") {
			if fields := strings.Fields(line); fields[len(fields)-1] != "0.87" {
				t.Errorf("row %q: CPU RATIO %q, want 0.87", line, fields[len(fields)-1])
			}
			return
		}
	}
	t.Errorf("no row of the figure:\n%s", buf.String())
}
