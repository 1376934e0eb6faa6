package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/loadgen"
)

// Durations of broker bench.
const (
	benchDefaultDuration = 5 * time.Second
	benchQuickDuration   = 500 * time.Millisecond
)

// runBench measures the figures of the performance targets, each against its reference in the
// same run, prints them as a table (and JSON with --json), and fails when one misses its target
// (unless --no-fail) or could not be measured.
func runBench(ctx context.Context, e env, args []string) error {
	fs := newFlags("bench", e)
	setSynopsis(fs, "broker bench [--duration D|--quick] [--clients N] [--only IDS] [--json FILE] [--no-fail] [--soak D] [--target URL --stack ID]\n\n"+
		"Measures the token path (RS256 and ES256, memory and Redis stores) against the raw signing rate of\n"+
		"this machine, the JWKS and discovery against nginx serving the same bytes, latency at 64 clients and\n"+
		"in an open loop at half the saturated rate (beside raw signing alone on the same schedule), the\n"+
		"server's resident memory, and issuance with 10,000 stacks against 10; each against its reference\n"+
		"in the same run. The servers run as child processes (broker serve, redis-server, nginx; a missing\n"+
		"program's figures are skipped, visibly), but the load generator shares the machine's cores with them.")
	target := fs.String("target", "", "measure the running server at this URL (secret in BROKER_API_KEY, --stack required) instead of starting servers")
	stack := fs.String("stack", "", "with --target: the stack the measured runs are created on")
	duration := fs.Duration("duration", benchDefaultDuration, "how long each figure is measured (and as long again for its reference)")
	quick := fs.Bool("quick", false, fmt.Sprintf("measure each figure for %s only (a smoke test, for CI; the numbers are rough)", benchQuickDuration))
	clients := fs.Int("clients", loadgen.DefaultClients(), "closed-loop keep-alive clients of the rate figures")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	noFail := fs.Bool("no-fail", false, "report figures below their target without failing")
	only := fs.String("only", "", "measure only these figures (comma-separated ids, as in --json) and what they need; the others are reported as skipped (servers the program starts only)")
	soak := fs.Duration("soak", 0, fmt.Sprintf("run the memory figure's load this long (e.g. 10m) and report the slope of the server's memory, judged for a soak of at least %s", loadgen.MinSoak))
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	durationGiven := false
	fs.Visit(func(f *flag.Flag) { durationGiven = durationGiven || f.Name == "duration" })
	cfg := loadgen.Config{Duration: *duration, Clients: *clients, Soak: *soak, Progress: e.stderr}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *quick {
		cfg.Duration = benchQuickDuration
	}
	switch {
	case *duration <= 0:
		return usagef("--duration must be positive")
	case *quick && durationGiven:
		return usagef("give --duration or --quick, not both: --quick measures each figure for %s", benchQuickDuration)
	case *clients <= 0:
		return usagef("--clients must be positive")
	case *soak < 0:
		return usagef("--soak must not be negative")
	case *stack != "" && *target == "":
		return usagef("--stack goes with --target")
	}
	if *target != "" {
		if *stack == "" {
			return usagef("--target needs --stack, the stack the measured runs are created on")
		}
		// The target is checked as BROKER_URL is, but its problems name the flag given.
		t := strings.TrimSuffix(strings.TrimSpace(*target), "/")
		if err := checkBrokerURL("--target", t); err != nil {
			return err
		}
		te := e
		te.getenv = func(k string) string {
			if k == "BROKER_URL" {
				return t
			}
			return e.getenv(k)
		}
		base, secret, err := brokerEnv(te, "BROKER_API_KEY")
		if err != nil {
			return err
		}
		cfg.Target = loadgen.Broker{URL: base, APIKey: secret, Stack: *stack}
	} else {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the broker binary to start as the server: %w", err)
		}
		cfg.Binary = bin
	}
	if *jsonPath != "" {
		// Found now, not after minutes of measuring.
		if err := checkWritable(*jsonPath); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	report, err := loadgen.Run(ctx, cfg)
	if errors.Is(err, loadgen.ErrUnknownFigure) {
		return usagef("--only: %v", err)
	}
	if err != nil {
		return err
	}
	if err := report.WriteTable(e.stdout); err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := writeBenchJSON(*jsonPath, report); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	below := belowFails
	if *noFail {
		below = belowReported
	}
	return benchOutcome(report, below)
}

// belowTarget says what a figure below its target makes of the bench: a failure, or (with
// --no-fail) a line of the report alone.
type belowTarget int

const (
	belowFails belowTarget = iota
	belowReported
)

// benchOutcome is the verdict of a report: an error when a figure could not be measured, or
// when one is below its target and below says that fails; a skipped figure fails nothing (the
// table and the notes say it was skipped).
func benchOutcome(report *loadgen.Report, below belowTarget) error {
	if errs := report.Errors(); len(errs) > 0 {
		return fmt.Errorf("%d figure(s) could not be measured, the first %s: %s", len(errs), errs[0].ID, errs[0].Detail)
	}
	if under := report.Below(); len(under) > 0 && below == belowFails {
		return fmt.Errorf("%d figure(s) below target, the first %s (%s)", len(under), under[0].ID, under[0].Target)
	}
	return nil
}

// checkWritable returns why path cannot be written, nil when it can: it opens the file for
// writing without changing it, and removes it again when it did not exist.
func checkWritable(path string) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return os.Remove(path)
	}
	return nil
}

// writeBenchJSON writes the report to path.
func writeBenchJSON(path string, report *loadgen.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the JSON report: %w", err)
	}
	if err := report.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write the JSON report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the JSON report: %w", err)
	}
	return nil
}
