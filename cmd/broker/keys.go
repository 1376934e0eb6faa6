package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/brokerhq/broker/keys"
)

const keysUsage = `usage:
  broker keys generate --dir DIR [--alg RS256|ES256]
  broker keys list     --dir DIR [--retain 24h]
  broker keys rotate   --dir DIR [--alg RS256|ES256] [--prepublish 24h]`

func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: generate, list or rotate")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("keys "+sub, e)
	setSynopsis(fs, strings.TrimPrefix(keysUsage, "usage:"))
	dir := fs.String("dir", "", "key directory (required)")
	alg := fs.String("alg", "", "algorithm of the new key: RS256 or ES256 (generate: RS256 when absent; rotate: every algorithm the directory holds)")
	policy := keys.DefaultPolicy()
	fs.DurationVar(&policy.Prepublish, "prepublish", policy.Prepublish, "how long a new key is published before it signs")
	fs.DurationVar(&policy.Retain, "retain", policy.Retain, "how long a retired key stays published")
	fs.DurationVar(&policy.Period, "period", policy.Period, "how long each key signs")
	var run func(context.Context, keysCommand) error
	switch sub {
	case "generate":
		run = keysGenerate
	case "list":
		run = keysList
	case "rotate":
		run = keysRotate
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stderr, "%s\n\nflags:\n", keysUsage)
		fs.PrintDefaults()
		return flag.ErrHelp
	default:
		return usagef("unknown subcommand %q: want generate, list or rotate", sub)
	}
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	norm, err := keys.NormalizeAlg(*alg)
	if err != nil {
		return usagef("--alg: %v", err)
	}
	policy.Alg = norm
	if err := policy.Validate(); err != nil {
		return usagef("%v", err)
	}
	return run(ctx, keysCommand{e: e, backend: keys.NewFile(*dir), policy: policy, algSet: *alg != "", now: time.Now().UTC()})
}

// keysCommand is what every keys subcommand works on.
type keysCommand struct {
	e       env
	backend *keys.File
	policy  keys.Policy
	// algSet tells that --alg was given; policy.Alg is RS256 when it was not.
	algSet bool
	now    time.Time
}

// keysGenerate writes the first key of an empty directory; it signs at once.
func keysGenerate(ctx context.Context, c keysCommand) error {
	set, err := c.backend.Load(ctx)
	if err != nil {
		return err
	}
	if len(set.Keys) > 0 {
		return fmt.Errorf("%s already holds %d key(s); use `broker keys rotate` to add a successor", c.backend.Dir(), len(set.Keys))
	}
	key, err := c.backend.Generate(ctx, c.policy.Alg, c.now)
	if err != nil {
		return err
	}
	next, err := keys.Apply(set, keys.Decision{Generate: true, Activates: c.now}, key)
	if err != nil {
		return err
	}
	if err := c.backend.Save(ctx, next); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "generated %s key %s in %s (signing now)\n", key.Alg, key.KID, c.backend.Dir())
	return nil
}

// keysRotate adds a successor that is published now and signs after the prepublish period, to
// the chain of --alg or, without it, to the chain of every algorithm the directory holds, so a
// rotation keeps the directory's algorithms.
func keysRotate(ctx context.Context, c keysCommand) error {
	set, err := c.backend.Load(ctx)
	if err != nil {
		return err
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("%s holds no key; use `broker keys generate` first", c.backend.Dir())
	}
	algs := []string{c.policy.Alg}
	if !c.algSet {
		algs = algs[:0]
		for _, k := range set.Keys {
			if !slices.Contains(algs, k.Alg) {
				algs = append(algs, k.Alg)
			}
		}
	}
	next := set
	var started []string
	for _, alg := range algs {
		p := c.policy
		p.Alg = alg
		d, err := keys.ForceRotate(c.now, next.Metas(), p)
		if err != nil {
			return fmt.Errorf("%s chain: %w", alg, err)
		}
		key, err := c.backend.Generate(ctx, alg, c.now)
		if err != nil {
			return err
		}
		if next, err = keys.Apply(next, d, key); err != nil {
			return err
		}
		msg := fmt.Sprintf("%s key %s is published now and signs from %s", alg, key.KID, d.Activates.Format(time.RFC3339))
		if d.Retire != "" {
			msg += fmt.Sprintf("; key %s retires then", d.Retire)
		}
		started = append(started, msg)
	}
	next.Generation = set.Generation + 1
	if err := c.backend.Save(ctx, next); err != nil {
		if errors.Is(err, keys.ErrConflict) {
			return fmt.Errorf("the key set changed while rotating (a server rotated at the same moment); run `broker keys list` and retry if needed: %w", err)
		}
		return err
	}
	for _, msg := range started {
		fmt.Fprintf(c.e.stdout, "rotation started: %s\n", msg)
	}
	return nil
}

// keysList prints every key with its state and schedule.
func keysList(ctx context.Context, c keysCommand) error {
	set, err := c.backend.Load(ctx)
	if err != nil {
		return err
	}
	metas := set.Metas()
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATES\tRETIRES")
	for _, m := range metas {
		retires := "-"
		if !m.Retires.IsZero() {
			retires = m.Retires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.KID, m.Alg, keys.StateOf(c.now, metas, c.policy, m),
			m.Created.UTC().Format(time.RFC3339), m.Activates.UTC().Format(time.RFC3339), retires)
	}
	return tw.Flush()
}
