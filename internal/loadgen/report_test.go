package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestFigureJudge(t *testing.T) {
	ratio := func(op Op, bound float64) *Target { return &Target{Op: op, Bound: bound, On: OnRatio} }
	value := func(op Op, bound float64) *Target { return &Target{Op: op, Bound: bound, On: OnValue} }
	cases := []struct {
		name string
		fig  Figure
		want Status
	}{
		{"ratio above its floor", Figure{Value: 900, Reference: 1000, Ratio: 0.9, Target: ratio(AtLeast, 0.85)}, StatusPass},
		{"ratio on its floor", Figure{Ratio: 0.85, Target: ratio(AtLeast, 0.85)}, StatusPass},
		{"ratio below its floor", Figure{Value: 840, Reference: 1000, Ratio: 0.84, Target: ratio(AtLeast, 0.85)}, StatusFail},
		{"the value is not what a ratio target judges", Figure{Value: 5000, Ratio: 0.5, Target: ratio(AtLeast, 0.85)}, StatusFail},
		{"fairness at the bound", Figure{Value: 40, Reference: 10, Ratio: 4, Target: ratio(AtMost, 4)}, StatusPass},
		{"fairness past the bound", Figure{Value: 160, Reference: 2, Ratio: 80, Target: ratio(AtMost, 4)}, StatusFail},
		{"p99 under 5 ms", Figure{Value: 4.99, Target: value(LessThan, 5)}, StatusPass},
		{"p99 at 5 ms is not under", Figure{Value: 5, Target: value(LessThan, 5)}, StatusFail},
		{"memory over", Figure{Value: 72, Reference: 18, Target: value(LessThan, 64)}, StatusFail},
		{"a reference has no target", Figure{Value: 1200}, StatusInfo},
		{"skipped stays skipped", Figure{Status: StatusSkipped, Target: value(LessThan, 5)}, StatusSkipped},
		{"an error stays an error", Figure{Status: StatusError, Value: 1, Target: value(LessThan, 5)}, StatusError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.fig
			f.Judge()
			if f.Status != c.want {
				t.Errorf("status %q, want %q", f.Status, c.want)
			}
		})
	}
}

func TestTargetUnknownOpNeverMet(t *testing.T) {
	if (Target{Op: "~", Bound: 1}).Met(1) {
		t.Error("an unknown comparison was met")
	}
}

func testReport() *Report {
	figs := []Figure{
		{ID: "raw", Name: "raw signing", Value: 1000, Unit: "signs/s"},
		{ID: "good", Name: "good figure", Value: 900, Unit: "tokens/s", Reference: 1000, RefUnit: "signs/s", RefName: "raw", Ratio: 0.9, Target: &Target{AtLeast, 0.85, OnRatio}},
		{ID: "bad", Name: "bad figure", Value: 800, Unit: "tokens/s", Reference: 1000, RefUnit: "signs/s", RefName: "raw", Ratio: 0.8, Target: &Target{AtLeast, 0.85, OnRatio}},
		{ID: "skip", Name: "skipped figure", Target: &Target{LessThan, 5, OnValue}},
		{ID: "err", Name: "broken figure", Target: &Target{LessThan, 5, OnValue}},
	}
	figs[3].Skip("nginx is not installed")
	figs[4].Fail(errors.New("status 500:\n<html>\n  broken</html>"))
	for i := range figs {
		figs[i].Judge()
	}
	return &Report{Figures: figs, Notes: []string{"shared cores"}}
}

func TestReportBelowAndErrors(t *testing.T) {
	r := testReport()
	if below := r.Below(); len(below) != 1 || below[0].ID != "bad" {
		t.Errorf("below = %+v, want bad alone", below)
	}
	if errs := r.Errors(); len(errs) != 1 || errs[0].ID != "err" || strings.Contains(errs[0].Detail, "\n") {
		t.Errorf("errors = %+v, want err alone, its detail on one line", errs)
	}
	all := &Report{Figures: []Figure{{ID: "ok", Ratio: 1, Target: &Target{AtLeast, 0.5, OnRatio}}}}
	all.Figures[0].Judge()
	if len(all.Below()) != 0 || len(all.Errors()) != 0 {
		t.Error("a passing report has figures below target or in error")
	}
}

func TestReportTable(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"FIGURE", "REFERENCE", "RATIO", "TARGET", "RESULT", "note: shared cores",
		"good figure", "900.0 tokens/s", "1000 signs/s (raw)", "0.90", "ratio >= 0.85", "PASS",
		"bad figure", "0.80", "FAIL", "SKIPPED", "skip [skipped]: nginx is not installed", "ERROR", "INFO",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReportJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Figures) != 5 || back.Figures[1].ID != "good" || back.Figures[1].Status != StatusPass ||
		back.Figures[1].Target.Bound != 0.85 || back.Figures[2].Status != StatusFail || back.Figures[3].Status != StatusSkipped {
		t.Errorf("round trip: %+v", back.Figures)
	}
}

func TestBusyNote(t *testing.T) {
	cases := []struct {
		before, after string
		busy          bool
	}{
		{"0.50", "1.90", false},
		{"2.00", "2.00", false},
		{"15.20", "18.29", true},
		{"0.10", "3.5", true},
		{"unknown", "unknown", false},
	}
	for _, c := range cases {
		note := busyNote(Machine{Cores: 2, LoadBefore: c.before, LoadAfter: c.after})
		if (note != "") != c.busy || (c.busy && !strings.Contains(note, c.after)) {
			t.Errorf("load %s/%s on 2 cores: note %q, want busy=%v", c.before, c.after, note, c.busy)
		}
	}
}
