package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/textcut"
)

// Reload is what a SIGHUP does. It re-reads the TLS certificate and key files (see
// reloadCertificate), then puts the objects of a re-read configuration file in force (spaces,
// stacks, integrations, attachments, roles and API keys); the rest of the file is read at
// start-up only. loadErr is the error of reading or validating the file, if any. A file that
// cannot be read, is invalid or does not fit the objects created through the API is refused as
// a whole: the catalog in force stays. Either way the outcome is logged and audited
// (config.reload). The two are independent: a refused certificate does not stop the file's
// objects, nor the other way round; the error joins both refusals.
func (s *Server) Reload(ctx context.Context, cfg *config.Config, loadErr error) error {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	if s.reloadsEnded {
		return errors.New("the replica is stopping: the reload is dropped")
	}
	return errors.Join(s.reloadCertificate(ctx), s.reloadCatalog(ctx, cfg, loadErr))
}

// reloadCertificate re-reads tls.cert_file and tls.key_file (the paths read at start-up) under
// the same rules as at start-up. New TLS handshakes present the new pair; connections already
// open keep theirs. A pair that fails (unreadable, a key file others may read, a key that does
// not match the certificate) is refused, logged and audited as a denied config.reload, and the
// certificate in force stays. Without tls it does nothing.
func (s *Server) reloadCertificate(ctx context.Context) error {
	if s.tlsCert == nil {
		return nil
	}
	if err := s.tlsCert.reload(); err != nil {
		err = fmt.Errorf("tls certificate reload refused, the certificate in force stays: %w", err)
		s.log.Error("tls certificate reload refused", "err", cutDetail(err.Error()))
		s.recordReload(ctx, audit.Denied, err.Error())
		return err
	}
	leaf := s.tlsCert.cur.Load().Leaf
	s.log.Info("tls certificate reloaded", "cert_file", s.tlsCert.certFile, "serial", leaf.SerialNumber.String(),
		"not_after", leaf.NotAfter)
	s.recordReload(ctx, audit.Success, fmt.Sprintf("tls certificate reloaded from %s (serial %s, valid until %s)",
		s.tlsCert.certFile, leaf.SerialNumber, leaf.NotAfter.UTC().Format(time.RFC3339)))
	return nil
}

// reloadCatalog puts the objects of the re-read file in force, or refuses the file whole.
// The reload's config.reload event is recorded before the objects are in force: a trail that
// cannot be written refuses the reload, as it refuses a change asked through the API.
func (s *Server) reloadCatalog(ctx context.Context, cfg *config.Config, loadErr error) error {
	err := loadErr
	if err == nil {
		err = runningLifetimes(s.cfg, cfg)
	}
	if err == nil {
		before, after := s.catalog.File(), catalog.FileObjects(cfg)
		detail := "configuration file objects reloaded"
		if diff := catalog.FileDiff(before, after); len(diff) > 0 {
			detail += ": " + strings.Join(diff, ", ")
		} else {
			detail += ": none changed"
		}
		changed := startupOnly(s.cfg, cfg)
		if len(changed) > 0 {
			detail += "; not applied until a restart: " + strings.Join(changed, ", ")
		}
		if _, err = s.catalog.ReloadLogged(ctx, after, reloadRecord{s: s, detail: detail}); err == nil {
			if len(changed) > 0 {
				s.log.Warn("config reload: settings read only at start-up changed; restart to apply them", "keys", changed)
			}
			s.log.Info("config reloaded", "source", cfg.Source)
			return nil
		}
	}
	err = fmt.Errorf("configuration reload refused, the running configuration stays: %w", err)
	s.log.Error("config reload refused", "err", cutDetail(err.Error()))
	s.recordReload(ctx, audit.Denied, err.Error())
	return err
}

// runningLifetimes checks next's integrations against the lifetimes the server runs with:
// tokens.ttl and runs.ttl are read at start-up only, so next's own values, which Validate
// checked its integrations against, are not those its Azure integrations will meet.
func runningLifetimes(running, next *config.Config) error {
	l := config.Lifetimes{Token: running.Tokens.TTL, Run: running.Runs.TTL}
	var errs config.Errors
	for i, in := range next.Integrations {
		var e config.Errors
		if errors.As(config.CheckIntegrationLifetimes(in, fmt.Sprintf("integrations[%d]", i), l), &e) {
			errs = append(errs, e...)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// reloadRecord is the catalog.ReloadLog of a reload: its config.reload event.
type reloadRecord struct {
	s      *Server
	detail string
}

// Before implements catalog.ReloadLog: the success event, before the reload is in force.
func (r reloadRecord) Before(ctx context.Context, _ *catalog.Catalog) error {
	e := api.Event{Actor: "system:config", Action: "config.reload", Space: config.RootSpace, Outcome: audit.Success,
		Detail: cutDetail(r.detail)}
	if err := r.s.events.Record(ctx, e); err != nil {
		return fmt.Errorf("its audit event could not be recorded: %w", err)
	}
	return nil
}

// NotCommitted implements catalog.ReloadLog: the event recorded in Before is followed by an
// error event saying the reload was not applied.
func (r reloadRecord) NotCommitted(ctx context.Context, err error) {
	why := "not confirmed, the catalog store failed before it answered: "
	if errors.Is(err, catalog.ErrStale) {
		why = "not applied, another change was committed first (the reload is checked and recorded again): "
	}
	r.s.recordReload(ctx, audit.Failed, why+err.Error())
}

// startRecord is the catalog.StartLog of a start on a file that changed while no replica ran
// on it: a config.reload event, as a SIGHUP reload of the same file would record.
type startRecord struct{ s *Server }

// Before implements catalog.StartLog: the success event, before the changes are committed.
func (r startRecord) Before(ctx context.Context, ch catalog.StartChange) error {
	var parts []string
	if len(ch.Left) > 0 {
		parts = append(parts, "left the file or their place in it (their runs end): "+strings.Join(ch.Left, ", "))
	}
	if len(ch.Changed) > 0 {
		parts = append(parts, "changed (new version): "+strings.Join(ch.Changed, ", "))
	}
	if len(ch.Added) > 0 {
		parts = append(parts, "added: "+strings.Join(ch.Added, ", "))
	}
	if len(ch.Removed) > 0 {
		parts = append(parts, "removed: "+strings.Join(ch.Removed, ", "))
	}
	e := api.Event{Actor: "system:config", Action: "config.reload", Space: config.RootSpace, Outcome: audit.Success,
		Detail: cutDetail("configuration file changed while no replica ran on it, applied at start-up; " + strings.Join(parts, "; ")),
		Index:  ch.Catalog}
	if err := r.s.events.Record(ctx, e); err != nil {
		return fmt.Errorf("its audit event could not be recorded: %w", err)
	}
	return nil
}

// NotCommitted implements catalog.StartLog: the event recorded in Before is followed by one
// saying the changes were not applied.
func (r startRecord) NotCommitted(ctx context.Context, err error) {
	why := "configuration file changes at start-up not confirmed, the catalog store failed before it answered: "
	if errors.Is(err, catalog.ErrStale) {
		why = "configuration file changes at start-up not applied by this replica, another change was committed first (checked again): "
	}
	e := api.Event{Actor: "system:config", Action: "config.reload", Space: config.RootSpace, Outcome: audit.Failed,
		Detail: cutDetail(why + err.Error())}
	if rerr := r.s.events.Record(ctx, e); rerr != nil {
		r.s.log.Error("audit: could not record a configuration change at start-up", "err", rerr)
	}
}

// maxReloadDetail bounds the detail of a config.reload event and the error a refused reload
// logs: however many problems a file has and however long their values, the event stored,
// chained and sent to every sink stays small.
const maxReloadDetail = 16 << 10

// cutDetail is detail, or its first bytes followed by how long it was, in maxReloadDetail bytes
// at most.
func cutDetail(detail string) string {
	if len(detail) <= maxReloadDetail {
		return detail
	}
	note := fmt.Sprintf("... (cut: %d bytes in all)", len(detail))
	return textcut.Prefix(detail, maxReloadDetail-len(note)) + note
}

// recordReload audits a config.reload with detail cut to maxReloadDetail.
func (s *Server) recordReload(ctx context.Context, outcome, detail string) {
	e := api.Event{Actor: "system:config", Action: "config.reload", Space: config.RootSpace, Outcome: outcome,
		Detail: cutDetail(detail)}
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
