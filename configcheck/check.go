package configcheck

import (
	"fmt"

	"github.com/brokerhq/broker/internal/config"
)

// Summary is what a valid configuration says about how it is run.
type Summary struct {
	// Issuer is the iss claim and discovery base URL.
	Issuer string
	// Listen is the address the server binds.
	Listen string
	// SharedStore reports whether state is shared through Redis (what more than one replica needs).
	SharedStore bool
	// KeyBackend is the key backend: memory, file, redis or vault-transit.
	KeyBackend string
	// PrivateFiles are the files broker reads under the private-file rule at start-up (mode 0600
	// or stricter, owned by the user broker runs as): the TLS key, the Redis and Sentinel
	// password files, the key encryption key and every audit webhook's secret file.
	PrivateFiles []string
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []string
	// AuditSinks are the sinks of audit.sinks, in order.
	AuditSinks []AuditSink
}

// AuditSink is one sink of audit.sinks as broker runs it.
type AuditSink struct {
	// Name is the sink's name, given or derived (see the README's audit.sinks).
	Name string
	// Kind is webhook or file.
	Kind string
	// Target is the webhook's URL or the file's path.
	Target string
	// SecretFile is the webhook's secret file; empty for none or for a file sink.
	SecretFile string
}

// Check decodes and validates data as the configuration file named source. It returns the
// same error `broker serve` prints for an invalid file (every problem, with its line), or what
// the valid configuration says.
func Check(source string, data []byte) (Summary, error) {
	cfg, err := config.Parse(source, data)
	if err != nil {
		return Summary{}, fmt.Errorf("configcheck: %w", err)
	}
	return summarize(cfg), nil
}

// CheckFile reads, decodes and validates the configuration file at path exactly as `broker
// serve --config path` loads it, with the rules on the file itself as well as on its content:
// it must be a regular file of at most config.MaxFileBytes that others may not write, lying in
// a directory (and reached through links in directories) that others may not write unless the
// directory is sticky. It returns the error `broker serve` prints for a file it refuses, or
// what the valid configuration says.
func CheckFile(path string) (Summary, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return Summary{}, fmt.Errorf("configcheck: %w", err)
	}
	return summarize(cfg), nil
}

// summarize is what the valid configuration cfg says about how it is run.
func summarize(cfg *config.Config) Summary {
	s := Summary{
		Issuer: cfg.Issuer, Listen: cfg.Listen, KeyBackend: cfg.Keys.Backend,
		SharedStore:    cfg.Store != nil && cfg.Store.Redis != nil,
		TrustedProxies: cfg.HTTP.TrustedProxies,
	}
	if cfg.TLS != nil {
		s.PrivateFiles = append(s.PrivateFiles, cfg.TLS.KeyFile)
	}
	if cfg.Store != nil && cfg.Store.Redis != nil {
		r := cfg.Store.Redis
		if r.PasswordFile != "" {
			s.PrivateFiles = append(s.PrivateFiles, r.PasswordFile)
		}
		if r.Sentinel != nil && r.Sentinel.PasswordFile != "" {
			s.PrivateFiles = append(s.PrivateFiles, r.Sentinel.PasswordFile)
		}
	}
	if r := cfg.Keys.Redis; r != nil && r.EncryptionKeyFile != "" {
		s.PrivateFiles = append(s.PrivateFiles, r.EncryptionKeyFile)
	}
	for _, sc := range cfg.Audit.Sinks {
		a := AuditSink{Name: sc.SinkName(), Kind: sc.Kind()}
		switch {
		case sc.Webhook != nil:
			a.Target, a.SecretFile = sc.Webhook.URL, sc.Webhook.SecretFile
			if a.SecretFile != "" {
				s.PrivateFiles = append(s.PrivateFiles, a.SecretFile)
			}
		case sc.File != nil:
			a.Target = sc.File.Path
		}
		s.AuditSinks = append(s.AuditSinks, a)
	}
	return s
}
