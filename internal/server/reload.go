package server

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// Reload puts the objects of a re-read configuration file in force (spaces, stacks,
// integrations, attachments, roles and API keys); the rest of the file is read at start-up
// only. loadErr is the error of reading or validating the file, if any. A file that cannot be
// read, is invalid or does not fit the objects created through the API is refused as a whole:
// the catalog in force stays. Either way the outcome is logged and audited (config.reload).
func (s *Server) Reload(ctx context.Context, cfg *config.Config, loadErr error) error {
	err := loadErr
	if err == nil {
		_, err = s.catalog.Reload(catalog.FileObjects(cfg))
	}
	if err != nil {
		err = fmt.Errorf("configuration reload refused, the running configuration stays: %w", err)
		s.log.Error("config reload refused", "err", err)
		s.recordReload(ctx, audit.Denied, err.Error())
		return err
	}
	detail := "configuration file objects reloaded"
	if changed := startupOnly(s.cfg, cfg); len(changed) > 0 {
		detail += "; not applied until a restart: " + strings.Join(changed, ", ")
		s.log.Warn("config reload: settings read only at start-up changed; restart to apply them", "keys", changed)
	}
	s.log.Info("config reloaded", "source", cfg.Source)
	s.recordReload(ctx, audit.Success, detail)
	return nil
}

func (s *Server) recordReload(ctx context.Context, outcome, detail string) {
	e := api.Event{Actor: "system:config", Action: "config.reload", Space: config.RootSpace, Outcome: outcome, Detail: detail}
	if err := s.events.Record(ctx, e); err != nil {
		s.log.Error("audit: could not record a configuration reload", "err", err)
	}
}

// startupOnly names the top-level settings outside the catalog that differ between a and b.
func startupOnly(a, b *config.Config) []string {
	var out []string
	diff := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, name)
		}
	}
	diff("issuer", a.Issuer, b.Issuer)
	diff("listen", a.Listen, b.Listen)
	diff("tls", a.TLS, b.TLS)
	diff("store", a.Store, b.Store)
	diff("keys", a.Keys, b.Keys)
	diff("tokens", a.Tokens, b.Tokens)
	diff("runs", a.Runs, b.Runs)
	diff("http", a.HTTP, b.HTTP)
	diff("limits", a.Limits, b.Limits)
	diff("audit", a.Audit, b.Audit)
	return out
}
