package calllog_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/emulator/calllog"
)

func TestLog(t *testing.T) {
	var l calllog.Log[int]
	if got := l.Calls(); len(got) != 0 {
		t.Fatalf("empty log: Calls() = %v", got)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { l.Record(i) })
	}
	wg.Wait()
	got := l.Calls()
	slices.Sort(got)
	if len(got) != 50 || got[0] != 0 || got[49] != 49 {
		t.Fatalf("Calls() = %v, want 0..49", got)
	}

	var ordered calllog.Log[string]
	ordered.Record("a")
	ordered.Record("b")
	calls := ordered.Calls()
	calls[0] = "changed"
	if got := ordered.Calls(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Calls() = %v after changing a copy, want [a b]", got)
	}
}

func TestFaults(t *testing.T) {
	var f calllog.Faults
	if _, ok := f.Take(); ok {
		t.Fatal("zero Faults injected a failure")
	}
	f.Arm(2, 503, "ServiceUnavailable")
	want := calllog.Fault{Status: 503, Code: "ServiceUnavailable"}
	for i := range 2 {
		if got, ok := f.Take(); !ok || got != want {
			t.Fatalf("Take #%d = %+v, %v; want %+v, true", i+1, got, ok, want)
		}
	}
	if _, ok := f.Take(); ok {
		t.Error("Take after the armed failures were used: got one more")
	}

	f.Arm(5, 429, "")
	f.Arm(1, 500, "") // replaces the pending failures
	if got, ok := f.Take(); !ok || got.Status != 500 {
		t.Errorf("Take = %+v, %v; want status 500", got, ok)
	}
	if _, ok := f.Take(); ok {
		t.Error("the replaced failures are still pending")
	}

	f.Arm(3, 503, "")
	f.Arm(-1, 503, "") // clears
	if _, ok := f.Take(); ok {
		t.Error("Arm(-1, ...) left a failure pending")
	}
}
