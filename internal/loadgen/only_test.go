package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunRefusesAnUnknownFigure(t *testing.T) {
	_, err := Run(context.Background(), Config{Duration: time.Second, Only: []string{"token_rs256_memory", "nope"}})
	if err == nil || !strings.Contains(err.Error(), `no figure "nope"`) || !strings.Contains(err.Error(), "open_loop_redis") {
		t.Fatalf("Run with an unknown --only id: %v; want an error naming it and the figures", err)
	}
}

func TestOnlyRunsTheStepsOfTheFiguresNamed(t *testing.T) {
	s := &suite{cfg: Config{Only: []string{"open_loop_redis"}}}
	s.report = &Report{Figures: s.plan()}
	ran := map[string]bool{}
	step := func(name string) func(context.Context) error {
		return func(context.Context) error { ran[name] = true; return nil }
	}
	s.block(context.Background(), step("memory"), "token_rs256_memory", "open_loop_memory")
	s.block(context.Background(), step("redis"), "token_rs256_redis", "open_loop_redis")
	if ran["memory"] || !ran["redis"] {
		t.Fatalf("steps run: %v; want only the one filling open_loop_redis", ran)
	}
	if f := s.fig("token_rs256_memory"); f.Status != "skipped" || !strings.Contains(f.Detail, "--only") {
		t.Fatalf("unselected figure: status %q, detail %q; want skipped, naming --only", f.Status, f.Detail)
	}
	s.cfg.Only = nil
	s.block(context.Background(), step("memory"), "token_rs256_memory")
	if !ran["memory"] {
		t.Fatal("without Only every step runs")
	}
}
