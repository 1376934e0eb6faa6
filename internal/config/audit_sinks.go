package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// AuditSink is one item of audit.sinks: where every audit event also goes, in chain order, at
// least once. Exactly one of Webhook and File is set.
type AuditSink struct {
	// Name identifies the sink in metrics, logs and the store (where its cursor is kept). Empty
	// means a name derived from the webhook's URL or the file's path (see SinkName), so a sink
	// keeps its cursor when sinks are reordered or added.
	Name    string       `yaml:"name"`
	Webhook *WebhookSink `yaml:"webhook"`
	File    *FileSink    `yaml:"file"`
	// MaxBatch is the most events one delivery carries, and so the most events of this sink
	// held in memory at once.
	MaxBatch int `yaml:"max_batch" zero:"default"`
	// MaxBackoff caps the wait between two attempts of a failing delivery.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// WebhookSink posts events as {"events": [...]} to URL.
type WebhookSink struct {
	// URL is the https endpoint (plain http only on a loopback host). It carries no user
	// information, query or fragment: authentication goes through SecretFile.
	URL string `yaml:"url"`
	// SecretFile, when set, names a file (mode 0600, owned by broker's user) whose content,
	// less surrounding white space, keys the X-Broker-Signature HMAC-SHA256 of every body.
	SecretFile string `yaml:"secret_file"`
	// Timeout bounds one request, response included.
	Timeout time.Duration `yaml:"timeout"`
}

// FileSink appends one event per line to Path.
type FileSink struct {
	Path string `yaml:"path"`
}

// Defaults and limits of audit.sinks.
const (
	DefaultAuditSinkBatch      = 100
	MaxAuditSinkBatch          = 1000
	DefaultAuditSinkMaxBackoff = 30 * time.Second
	MinAuditSinkMaxBackoff     = 10 * time.Millisecond
	DefaultWebhookTimeout      = 10 * time.Second
	// MaxWebhookTimeout bounds a webhook request: a hung one holds the sink's delivery that long.
	MaxWebhookTimeout = 5 * time.Minute
)

// Kinds of audit sink, the prefix of a derived sink name.
const (
	SinkKindWebhook = "webhook"
	SinkKindFile    = "file"
)

// Kind is the sink's kind: SinkKindWebhook, SinkKindFile, or "" when not exactly one is set.
func (s AuditSink) Kind() string {
	switch {
	case s.Webhook != nil && s.File == nil:
		return SinkKindWebhook
	case s.File != nil && s.Webhook == nil:
		return SinkKindFile
	}
	return ""
}

// SinkName is Name when set; otherwise the kind and the first 8 hex digits of the SHA-256 of
// the URL or path, so the name is bounded, stable and never shows the target.
func (s AuditSink) SinkName() string {
	if s.Name != "" {
		return s.Name
	}
	target := ""
	switch s.Kind() {
	case SinkKindWebhook:
		target = s.Webhook.URL
	case SinkKindFile:
		target = s.File.Path
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(target))
	return s.Kind() + "-" + hex.EncodeToString(sum[:4])
}

// applyAuditSinkDefaults fills the zero batch, backoff and timeout of every sink.
func (c *Config) applyAuditSinkDefaults() {
	for i := range c.Audit.Sinks {
		s := &c.Audit.Sinks[i]
		if s.MaxBatch == 0 {
			s.MaxBatch = DefaultAuditSinkBatch
		}
		setDuration(&s.MaxBackoff, DefaultAuditSinkMaxBackoff)
		if s.Webhook != nil {
			setDuration(&s.Webhook.Timeout, DefaultWebhookTimeout)
		}
	}
}

// checkAuditSinks checks every audit sink: exactly one kind, its target, its limits, and names
// that are unique (two sinks with the same target need distinct names). A sink of no one kind
// still has its name and limits checked; only its target and its sameness to another are not.
func (v *validator) checkAuditSinks() {
	first := map[string]int{}
	for i, s := range v.c.Audit.Sinks {
		path := joinIndex("audit.sinks", i)
		oneKind := false
		switch {
		case s.Webhook != nil && s.File != nil:
			v.add(path, "", "sets both webhook and file; exactly one")
		case s.Webhook == nil && s.File == nil:
			v.add(path, "", "needs exactly one of webhook (url, secret_file) and file (path)")
		case s.Webhook != nil:
			oneKind = true
			v.checkWebhookSink(path+".webhook", s.Webhook)
		default:
			oneKind = true
			v.checkFileSink(path+".file", s.File)
		}
		if s.Name != "" && !IDPattern.MatchString(s.Name) {
			v.add(path+".name", s.Name, "name %q must match %s (lower case letters, digits and '-', at most 63)", s.Name, IDPattern)
		}
		if s.MaxBatch < 1 || s.MaxBatch > MaxAuditSinkBatch {
			v.add(path+".max_batch", fmt.Sprint(s.MaxBatch), "must be between 1 and %d, got %d", MaxAuditSinkBatch, s.MaxBatch)
		}
		if s.MaxBackoff < MinAuditSinkMaxBackoff {
			v.add(path+".max_backoff", s.MaxBackoff.String(), "must be at least %s, got %s", MinAuditSinkMaxBackoff, s.MaxBackoff)
		}
		if !oneKind {
			continue
		}
		name := s.SinkName()
		if j, dup := first[name]; dup {
			v.add(path, name, "is the same sink as %s (sink %q): give one of them a distinct name", joinIndex("audit.sinks", j), name)
			continue
		}
		first[name] = i
	}
}

func (v *validator) checkWebhookSink(path string, w *WebhookSink) {
	if w.URL == "" {
		v.add(path+".url", "", "required (the https URL events are posted to)")
	} else if u, err := url.Parse(w.URL); err == nil && u.User != nil {
		v.add(path+".url", "", "must not contain user information: put the shared secret in secret_file")
	} else {
		v.checkSecretURL(path+".url", w.URL)
	}
	if w.Timeout <= 0 {
		v.add(path+".timeout", w.Timeout.String(), "must be greater than zero, got %s", w.Timeout)
	} else if w.Timeout > MaxWebhookTimeout {
		v.add(path+".timeout", w.Timeout.String(), "must be at most %s (a hung request holds the sink's delivery that long), got %s", MaxWebhookTimeout, w.Timeout)
	}
}

func (v *validator) checkFileSink(path string, f *FileSink) {
	switch {
	case f.Path == "":
		v.add(path+".path", "", "required (the file events are appended to, one per line)")
	case !filepath.IsAbs(f.Path):
		v.add(path+".path", f.Path, "%q must be an absolute path", f.Path)
	}
}
