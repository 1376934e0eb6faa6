package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// minWebhookSecret is the shortest webhook secret accepted, in bytes.
const minWebhookSecret = 16

// newAuditSinks builds the forwarder of audit.sinks on the replica's audit store: the sinks'
// cursors and leases live in that store when it keeps them (Redis), so delivery resumes where
// it stopped after a restart and one replica at a time delivers to a sink; in memory otherwise,
// where the memory store then holds what the sinks still need (see audit.Memory.HoldFor).
func newAuditSinks(cfg *config.Config, store audit.Store, log *slog.Logger) (*auditsink.Forwarder, error) {
	chain, _ := store.(auditsink.Chain)
	if chain == nil && len(cfg.Audit.Sinks) > 0 {
		return nil, errors.New("audit.sinks: this audit store cannot be read by position")
	}
	cursors, ok := store.(audit.Cursors)
	var held *audit.MemoryCursors
	if !ok {
		held = audit.NewMemoryCursors(nil)
		cursors = held
	}
	targets := make([]auditsink.Target, 0, len(cfg.Audit.Sinks))
	for i, sc := range cfg.Audit.Sinks {
		path := fmt.Sprintf("audit.sinks[%d]", i)
		t := auditsink.Target{Name: sc.SinkName(), MaxBatch: sc.MaxBatch, MaxBackoff: sc.MaxBackoff}
		switch sc.Kind() {
		case config.SinkKindWebhook:
			secret, err := readWebhookSecret(path+".webhook.secret_file", sc.Webhook.SecretFile)
			if err != nil {
				return nil, err
			}
			t.Sink, t.Timeout = auditsink.NewWebhook(auditsink.WebhookConfig{URL: sc.Webhook.URL, Secret: secret}), sc.Webhook.Timeout
			clear(secret)
		case config.SinkKindFile:
			f, err := auditsink.NewFile(sc.File.Path)
			if err != nil {
				return nil, fmt.Errorf("%s.file.path: %w", path, err)
			}
			t.Sink = f
		default:
			return nil, fmt.Errorf("%s: needs exactly one of webhook and file", path)
		}
		targets = append(targets, t)
	}
	if mem, ok := store.(*audit.Memory); ok && held != nil && len(targets) > 0 {
		// The memory store keeps, beyond its retention, what a sink that is down has not yet
		// received, within audit.memory.sink_backlog.
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = t.Name
		}
		mem.HoldFor(func() int64 { return held.Floor(names) }, cfg.Audit.Memory.SinkBacklog)
	}
	return auditsink.New(auditsink.Config{Chain: chain, Cursors: cursors, Targets: targets, Logger: log})
}

// readWebhookSecret reads a webhook's secret_file (none when file is empty): a file of mode
// 0600 owned by broker's user, whose content less surrounding white space is the secret, at
// least minWebhookSecret bytes. Errors name the file, never its content.
func readWebhookSecret(path, file string) ([]byte, error) {
	if file == "" {
		return nil, nil
	}
	data, err := keys.ReadPrivateFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	secret := bytes.Clone(bytes.TrimSpace(data))
	clear(data)
	if len(secret) < minWebhookSecret {
		clear(secret)
		return nil, fmt.Errorf("%s: %s holds %d bytes; a webhook secret needs at least %d (openssl rand -hex 32)",
			path, file, len(secret), minWebhookSecret)
	}
	return secret, nil
}
