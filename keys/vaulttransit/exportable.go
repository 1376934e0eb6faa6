package vaulttransit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brokerhq/broker/keys"
)

// ErrExportable is the error of a Transit key whose private halves can leave Vault: created or
// configured with exportable=true (GET <mount>/export/signing-key/<name> hands them out) or
// allow_plaintext_backup=true (<mount>/backup/<name> does). Whoever may export such a key holds
// broker's signing key, and so the trust of every relying party; broker neither adopts, loads,
// rotates nor signs with it. Vault cannot turn either setting off: the key must be replaced.
var ErrExportable = errors.New("vaulttransit: the Transit key's private key can leave Vault")

// RecheckInterval is how long a Transit key's settings, as last read from Vault, are trusted:
// a signature with a key whose settings were read longer ago than that (by this backend's
// clock) reads them again first, so that a key made exportable while broker runs stops signing
// within RecheckInterval.
const RecheckInterval = 30 * time.Second

// settings is what broker last read of one Transit key's settings.
type settings struct {
	// read is when they were read (the backend's clock).
	read time.Time
	// err is the key's refusal (wrapping ErrExportable), nil for a key that stays in Vault.
	err error
}

// confined returns nil when the Transit key name, as info describes it, keeps its private
// halves inside Vault, and otherwise an error wrapping ErrExportable that names the key and the
// settings, never any key material.
func (b *Backend) confined(name string, info *keyInfo) error {
	var why []string
	if info.exportable {
		why = append(why, "exportable=true")
	}
	if info.plaintextBackup {
		why = append(why, "allow_plaintext_backup=true")
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: Transit key %s/keys/%s has %s, so whoever may export it holds broker's signing key; "+
		"broker signs only with a key that cannot leave Vault (Vault cannot turn this off: configure a new key name, which broker creates)",
		ErrExportable, b.cfg.Mount, name, strings.Join(why, " and "))
}

// note records what info (just read from Vault) tells of the settings of the Transit key name,
// and returns confined's answer.
func (b *Backend) note(name string, info *keyInfo) error {
	err := b.confined(name, info)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.settings == nil {
		b.settings = map[string]settings{}
	}
	b.settings[name] = settings{read: b.cfg.Now(), err: err}
	return err
}

// known reports whether the settings of the Transit key name were noted less than
// RecheckInterval ago, and returns the refusal last noted for them.
func (b *Backend) known(name string) (fresh bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.settings[name]
	if !ok {
		return false, nil
	}
	age := b.cfg.Now().Sub(s.read)
	return age >= 0 && age < RecheckInterval, s.err
}

// flight is one read of a Transit key's settings in progress, shared by every signature that
// needs them meanwhile; err is its answer (a refusal or a failure to read), set before done is
// closed.
type flight struct {
	done chan struct{}
	err  error
}

// usable returns nil when the Transit key name may sign: its settings, read again from Vault
// unless read less than RecheckInterval ago, keep its private halves inside Vault. One read of a
// key's settings at a time: every signature that needs them meanwhile waits for that read and
// takes its answer, a failure included, waiting no longer than its ctx and Config.Timeout
// allow. A failed read is not remembered: the next signature reads again.
func (b *Backend) usable(ctx context.Context, name string) error {
	if fresh, err := b.known(name); fresh {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("vaulttransit: check the settings of Transit key %s: %w", name, err)
	}
	f := b.recheck(ctx, name)
	timer := time.NewTimer(b.cfg.Timeout)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("vaulttransit: check the settings of Transit key %s: %w", name, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("%w: vault-transit: check the settings of Transit key %s: no answer from Vault within %s",
			keys.ErrUnavailable, name, b.cfg.Timeout)
	}
}

// recheck returns the read of the settings of the Transit key name in progress, starting one
// when there is none. The read is bounded by Config.Timeout alone, not by the ctx of the
// signature that started it (whose end must not fail the others waiting), and keeps ctx's
// values.
func (b *Backend) recheck(ctx context.Context, name string) *flight {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.flights[name]; ok {
		return f
	}
	if b.flights == nil {
		b.flights = map[string]*flight{}
	}
	f := &flight{done: make(chan struct{})}
	b.flights[name] = f
	rctx := context.WithoutCancel(ctx)
	go func() {
		_, err := b.readKey(rctx, name) // notes the settings
		b.mu.Lock()
		delete(b.flights, name)
		b.mu.Unlock()
		f.err = err
		close(f.done)
	}()
	return f
}
