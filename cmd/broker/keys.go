package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/server"
	"github.com/brokerhq/broker/keys"
)

const keysUsage = `usage:
  broker keys generate (--dir DIR | --config FILE) [--alg RS256|ES256]
  broker keys list     (--dir DIR | --config FILE) [--retain 24h]
  broker keys rotate   (--dir DIR | --config FILE) [--alg RS256|ES256] [--prepublish 24h]
  broker keys revoke   (--dir DIR | --config FILE) --kid KID
  (with --dir, the rotation policy: [--period 720h] [--prepublish 24h] [--retain 24h])

--config takes the key backend (file, redis, or vault-transit with store.redis) and the
rotation policy from broker's configuration file, as the servers read them. A rotated key is published at once and signs
after prepublish plus two of the servers' refresh intervals (each prepublish/16, from 250ms
to 30s), so that every server has had it in its JWKS for prepublish before it signs.

revoke is the emergency rotation of a lost or leaked key: KID leaves the key set at once (every
server drops it from its JWKS at its next refresh), a new key of its algorithm signs from now on
every server, and tokens KID signed stop verifying once relying parties fetch the JWKS again.`

// policyFlags are the flags that give the rotation policy without --config.
var policyFlags = []string{"prepublish", "retain", "period"}

func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: generate, list, rotate or revoke")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("keys "+sub, e)
	setSynopsis(fs, strings.TrimPrefix(keysUsage, "usage:"))
	dir := fs.String("dir", "", "key directory (this or --config is required)")
	cfgPath := fs.String("config", "", "broker configuration file: its key backend (file, redis, or vault-transit with store.redis) and rotation policy")
	kid := fs.String("kid", "", "revoke: the key to remove from the key set")
	alg := fs.String("alg", "", "algorithm of the new key: RS256 or ES256 (generate: RS256 when absent; rotate: every algorithm the key set holds)")
	policy := keys.DefaultPolicy()
	fs.DurationVar(&policy.Prepublish, "prepublish", policy.Prepublish, "with --dir: how long every server publishes a new key before it signs (the servers' keys.rotation.prepublish)")
	fs.DurationVar(&policy.Retain, "retain", policy.Retain, "with --dir: how long a retired key stays published")
	fs.DurationVar(&policy.Period, "period", policy.Period, "with --dir: how long each key signs")
	var run func(context.Context, keysCommand) error
	switch sub {
	case "generate":
		run = keysGenerate
	case "list":
		run = keysList
	case "rotate":
		run = keysRotate
	case "revoke":
		run = func(ctx context.Context, c keysCommand) error { return keysRevoke(ctx, c, *kid) }
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(e.stderr, "%s\n\nflags:\n", keysUsage)
		fs.PrintDefaults()
		return flag.ErrHelp
	default:
		return usagef("unknown subcommand %s: want generate, list, rotate or revoke", shownArg(sub))
	}
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if (sub == "revoke") != (*kid != "") {
		return usagef("--kid is required by revoke and taken by it only")
	}
	norm, err := keys.NormalizeAlg(*alg)
	if err != nil {
		return usagef("--alg: %v", err)
	}
	c := keysCommand{e: e, algSet: *alg != "", now: time.Now().UTC()}
	switch {
	case (*dir == "") == (*cfgPath == ""):
		return usagef("give either --dir or --config")
	case *dir != "":
		c.backend, c.where = keys.NewFile(*dir), *dir
	default:
		var given []string
		fs.Visit(func(f *flag.Flag) {
			if slices.Contains(policyFlags, f.Name) {
				given = append(given, "--"+f.Name)
			}
		})
		if len(given) > 0 {
			return usagef("%s: with --config the rotation policy comes from the configuration file", strings.Join(given, ", "))
		}
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		b, closeBackend, err := server.OpenKeyBackend(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
		defer func() { _ = closeBackend() }()
		policy = server.KeyPolicy(cfg)
		c.backend, c.where = b, keySetName(cfg)
	}
	switch {
	case *cfgPath == "":
		policy.Alg = norm
	case c.algSet && sub == "rotate" && slices.Contains(policy.Algorithms(), norm):
		// A chain the servers keep (keys.algorithm's, or RS256 beside it for Entra ID) rotates
		// alone under the file's policy.
	case c.algSet && norm != policy.Alg:
		// The servers sign with keys.algorithm: a first key of another algorithm would sign
		// until one of theirs is published for prepublish.
		return usagef("--alg %s is not keys.algorithm %s of %s; with --config the algorithm comes from the file", norm, policy.Alg, *cfgPath)
	}
	if c.algSet {
		c.alg = norm
	}
	if err := policy.Validate(); err != nil {
		return usagef("%v", err)
	}
	c.policy = policy
	return run(ctx, c)
}

// keySetName names the key set of cfg in messages.
func keySetName(cfg *config.Config) string {
	if cfg.Keys.Backend == config.BackendFile {
		return cfg.Keys.Dir
	}
	return "the " + cfg.Keys.Backend + " key set"
}

// keysCommand is what every keys subcommand works on.
type keysCommand struct {
	e       env
	backend keys.Backend
	// where names the key set in messages: the directory, or the backend.
	where  string
	policy keys.Policy
	// algSet tells that --alg was given; policy.Alg is RS256 when it was not.
	algSet bool
	// alg is --alg's algorithm, normalized, when it was given.
	alg string
	now time.Time
}

// keysGenerate writes the first key of an empty key set; it signs at once.
func keysGenerate(ctx context.Context, c keysCommand) error {
	set, err := c.backend.Load(ctx)
	if err != nil {
		return err
	}
	if len(set.Keys) > 0 {
		return fmt.Errorf("%s already holds %d key(s); use `broker keys rotate` to add a successor", c.where, len(set.Keys))
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
	fmt.Fprintf(c.e.stdout, "generated %s key %s in %s (signing now)\n", key.Alg, key.KID, c.where)
	return nil
}

// keysRotate adds a successor that is published now and signs after the policy's lead
// (prepublish plus two of the servers' refresh intervals), to the chain of --alg or, without it, to the
// chain of every algorithm the key set holds, so a rotation keeps the set's algorithms.
func keysRotate(ctx context.Context, c keysCommand) error {
	rc := keys.RotationConfig{Backend: c.backend, Policy: c.policy, Now: time.Now().UTC(),
		Clock: func() time.Time { return time.Now().UTC() }}
	if c.algSet {
		rc.Algs = []string{c.alg}
	}
	started, err := keys.StartRotation(ctx, rc)
	switch {
	case errors.Is(err, keys.ErrNoSigningKey):
		return fmt.Errorf("%s holds no key; use `broker keys generate` first", c.where)
	case errors.Is(err, keys.ErrConflict):
		return fmt.Errorf("the key set changed while rotating (a server rotated at the same moment); run `broker keys list` and retry if needed: %w", err)
	case err != nil:
		return err
	}
	for _, s := range started {
		msg := fmt.Sprintf("%s key %s is published now and signs from %s", s.Alg, s.KID, s.Activates.Format(time.RFC3339Nano))
		if s.Retired != "" {
			msg += fmt.Sprintf("; key %s retires then", s.Retired)
		}
		fmt.Fprintf(c.e.stdout, "rotation started: %s\n", msg)
	}
	return nil
}

// keysRevoke removes kid from the key set and puts a new key of its algorithm in its place,
// signing at once (see keys.Revoke).
func keysRevoke(ctx context.Context, c keysCommand, kid string) error {
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: c.backend, KID: kid, Now: c.now})
	switch {
	case errors.Is(err, keys.ErrUnknownKey):
		return fmt.Errorf("%s holds no key %s; run `broker keys list`", c.where, kid)
	case errors.Is(err, keys.ErrConflict):
		return fmt.Errorf("the key set changed while revoking (a server rotated at the same moment); retry: %w", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(c.e.stdout, "revoked %s: it leaves every server's JWKS at the server's next key refresh\n", rev.KID)
	fmt.Fprintf(c.e.stdout, "%s key %s signs from now on\n", rev.Alg, rev.NewKID)
	if rev.Retired != "" {
		fmt.Fprintf(c.e.stdout, "key %s stopped signing and stays published for the retain period\n", rev.Retired)
	}
	return nil
}

// keysList prints every key with its state and schedule.
func keysList(ctx context.Context, c keysCommand) error {
	if f, ok := c.backend.(*keys.File); ok {
		// A file backend reads a missing directory as an empty key set (a server creates it);
		// listing one is a mistyped path, not a directory without keys.
		if _, err := os.Stat(f.Dir()); err != nil {
			return fmt.Errorf("key directory %s: %w", f.Dir(), err)
		}
	}
	set, err := c.backend.Load(ctx)
	if err != nil {
		return err
	}
	metas := set.Metas()
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATES\tRETIRES")
	states := keys.States(c.now, metas, c.policy)
	for i, m := range metas {
		retires := "-"
		if !m.Retires.IsZero() {
			retires = m.Retires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.KID, m.Alg, states[i],
			m.Created.UTC().Format(time.RFC3339), m.Activates.UTC().Format(time.RFC3339), retires)
	}
	return tw.Flush()
}
