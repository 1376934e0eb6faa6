package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Status is how a figure came out.
type Status string

// Statuses of a figure.
const (
	// StatusPass: measured and within its target.
	StatusPass Status = "pass"
	// StatusFail: measured and outside its target.
	StatusFail Status = "fail"
	// StatusInfo: measured, with no target of its own (a reference).
	StatusInfo Status = "info"
	// StatusSkipped: not measured, for the reason in Detail (a program not installed).
	StatusSkipped Status = "skipped"
	// StatusError: the measurement itself failed (a request failed, a server did not start).
	StatusError Status = "error"
)

// Op compares a figure's judged quantity with its target.
type Op string

// Comparisons of a target.
const (
	AtLeast  Op = ">="
	AtMost   Op = "<="
	LessThan Op = "<"
)

// On names the quantity a target judges.
type On string

// Quantities a target judges.
const (
	OnRatio On = "ratio"
	OnValue On = "value"
)

// Target is a figure's bar.
type Target struct {
	Op    Op      `json:"op"`
	Bound float64 `json:"bound"`
	On    On      `json:"on"`
}

// Met reports whether x meets the target.
func (t Target) Met(x float64) bool {
	switch t.Op {
	case AtLeast:
		return x >= t.Bound
	case AtMost:
		return x <= t.Bound
	case LessThan:
		return x < t.Bound
	}
	return false
}

// String is the target as a reader sees it, e.g. "ratio >= 0.85".
func (t Target) String() string {
	return fmt.Sprintf("%s %s %s", t.On, t.Op, strconv.FormatFloat(t.Bound, 'f', -1, 64))
}

// Figure is one measured quantity, its reference and its target.
type Figure struct {
	// ID names the figure in JSON, stable across runs.
	ID string `json:"id"`
	// Name describes it for a reader.
	Name string `json:"name"`
	// Value and Unit are what was measured.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Reference, RefUnit and RefName are what Value is set against, taken in the same run;
	// RefName empty when the figure has none.
	Reference float64 `json:"reference,omitempty"`
	RefUnit   string  `json:"referenceUnit,omitempty"`
	RefName   string  `json:"referenceName,omitempty"`
	// Ratio is Value / Reference (or the ratio the figure defines); 0 when none.
	Ratio float64 `json:"ratio,omitempty"`
	// CPU compares CPU time per operation instead of rates, when both sides' CPU is known.
	CPU *CPUCost `json:"cpu,omitempty"`
	// Target is the bar; nil for a reference.
	Target *Target `json:"target,omitempty"`
	// Status is how the figure came out; Detail says more (the method, why it was skipped).
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Judge sets Status from the target when the figure was measured (Status empty): pass or fail
// on the judged quantity, info without a target.
func (f *Figure) Judge() {
	if f.Status != "" {
		return
	}
	if f.Target == nil {
		f.Status = StatusInfo
		return
	}
	x := f.Value
	if f.Target.On == OnRatio {
		x = f.Ratio
	}
	if f.Target.Met(x) {
		f.Status = StatusPass
	} else {
		f.Status = StatusFail
	}
}

// Unjudged marks a measured figure as information only, not held to its target, for reason:
// its status is info and its detail ends with "not judged: " and the reason.
func (f *Figure) Unjudged(reason string) {
	f.Status = StatusInfo
	if f.Detail != "" {
		f.Detail += "; "
	}
	f.Detail += "not judged: " + reason
}

// Skip marks the figure not measured, for reason.
func (f *Figure) Skip(reason string) {
	f.Status, f.Detail = StatusSkipped, reason
}

// Fail marks the figure's measurement as failed with err.
func (f *Figure) Fail(err error) {
	f.Status, f.Detail = StatusError, strings.Join(strings.Fields(err.Error()), " ")
}

// Machine describes where the run took place.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	// Build is this binary's build settings that change the servers' figures (buildOf).
	Build string `json:"build"`
	// LoadBefore and LoadAfter are /proc/loadavg's one-minute figure at the start and the end.
	LoadBefore string `json:"loadBefore"`
	LoadAfter  string `json:"loadAfter"`
}

// Report is the outcome of a run.
type Report struct {
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Machine  Machine   `json:"machine"`
	// Notes are caveats every reader must see (shared cores, skipped programs).
	Notes   []string `json:"notes"`
	Figures []Figure `json:"figures"`
}

// Below returns the figures that were measured and missed their target.
func (r *Report) Below() []Figure { return r.with(StatusFail) }

// Errors returns the figures whose measurement failed.
func (r *Report) Errors() []Figure { return r.with(StatusError) }

func (r *Report) with(s Status) []Figure {
	var out []Figure
	for _, f := range r.Figures {
		if f.Status == s {
			out = append(out, f)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the report as a table: figure, value, reference, ratio, target, status.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "broker bench, %s, %s\n", r.Started.UTC().Format(time.RFC3339), r.Duration)
	fmt.Fprintf(w, "machine: %s, %d cores, GOMAXPROCS %d, %s, %s (%s), load average %s before, %s after\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Go, m.Build, m.LoadBefore, m.LoadAfter)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tREFERENCE\tRATIO\tTARGET\tRESULT\tCPU RATIO")
	for _, f := range r.Figures {
		value, ref, ratio, target, cpu := "-", "-", "-", "-", "-"
		if f.Status != StatusSkipped && f.Status != StatusError {
			value = formatNumber(f.Value) + " " + f.Unit
			if f.RefName != "" {
				ref = formatNumber(f.Reference) + " " + f.RefUnit + " (" + f.RefName + ")"
			}
			if f.Ratio != 0 {
				ratio = strconv.FormatFloat(f.Ratio, 'f', 2, 64)
			}
			if f.CPU != nil {
				cpu = strconv.FormatFloat(f.CPU.Ratio, 'f', 2, 64)
			}
		}
		if f.Target != nil {
			target = f.Target.String()
		}
		result := strings.ToUpper(string(f.Status))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, value, ref, ratio, target, result, cpu)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, f := range r.Figures {
		detail := f.Detail
		if c := f.CPU; c != nil {
			detail += fmt.Sprintf("; CPU per request: server %.0f µs, load driver %.0f µs; reference %.0f µs per operation", c.ServerPerOp, c.DriverPerOp, c.RefPerOp)
		}
		if detail != "" {
			fmt.Fprintf(w, "%s [%s]: %s\n", f.ID, f.Status, detail)
		}
	}
	fmt.Fprintln(w, "CPU RATIO: the reference's CPU per operation over the server's CPU per request (server process only, from /proc); the neighbours of a shared machine disturb it less than the rates, but the targets judge RATIO")
	return nil
}

// formatNumber prints x with a precision that suits its size.
func formatNumber(x float64) string {
	switch {
	case x >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}
