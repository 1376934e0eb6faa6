package config

import (
	"net/url"
	"time"
)

// Default values applied by ApplyDefaults to fields left zero.
const (
	DefaultListen             = "127.0.0.1:8080"
	DefaultKeyBackend         = BackendMemory
	DefaultAlgorithm          = "RS256"
	DefaultRotationPeriod     = 720 * time.Hour
	DefaultPrepublish         = 24 * time.Hour
	DefaultRetain             = 24 * time.Hour
	DefaultTokenTTL           = time.Hour
	DefaultRunTTL             = 3 * time.Hour
	DefaultReadHeaderTimeout  = 5 * time.Second
	DefaultReadTimeout        = 30 * time.Second
	DefaultWriteTimeout       = 30 * time.Second
	DefaultIdleTimeout        = 120 * time.Second
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultIntegrationTimeout = 10 * time.Second
	DefaultAWSMode            = AWSModeWebIdentity
	DefaultVaultMount         = "jwt"
	DefaultAuthFailures       = 20
	DefaultAuthWindow         = time.Minute
	DefaultAuthCooloff        = 5 * time.Minute
	DefaultStoreTimeout       = time.Second
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	DefaultAuditMemoryRetain  = 10_000
)

// The waits of a graceful stop beside http.shutdown_timeout (see HTTP.StopBound).
const (
	// StopLastAnswers is how long the handlers of connections cut at http.shutdown_timeout,
	// and at the end the answers of the drain's own connections, get to finish.
	StopLastAnswers = time.Second
	// StopFlushFloor is the least time the audit sinks' final flush gets, however much of
	// http.shutdown_timeout the in-flight requests took (at most that timeout).
	StopFlushFloor = 10 * time.Second
)

// StopBound is the longest a graceful stop takes, from the signal to the exit: the in-flight
// requests' shutdown_timeout, the cut handlers' last answers, the audit sinks' final flush and
// the drain's last answers, plus the milliseconds the background tasks take to end. A
// supervisor's stop timeout (systemd's TimeoutStopSec, a pod's grace period after its preStop
// hook) must outlast it, or it kills broker before the sinks get the end of the chain.
func (h HTTP) StopBound() time.Duration {
	return h.ShutdownTimeout + StopLastAnswers + min(h.ShutdownTimeout, StopFlushFloor) + StopLastAnswers
}

// DefaultAuditSinkBacklog is audit.memory.sink_backlog's default: about 15 MiB of token events
// kept for a sink that is down, 17 minutes of 100 tokens a second.
const DefaultAuditSinkBacklog = 100_000

// MaxRetainPeriods bounds keys.rotation.retain in rotation periods: each period's key stays
// published for retain after it retires, so a period short beside retain fills the JWKS.
const MaxRetainPeriods = 16

// ApplyDefaults fills every zero field that has a default, and adds the root space when no space
// has the id root (appended last, so the indexes of declared spaces are unchanged). Load and
// Parse call it; call it yourself on a Config built in code before Validate.
func (c *Config) ApplyDefaults() {
	setString(&c.Listen, DefaultListen)
	if c.Store == nil || c.Store.Redis == nil {
		// With store.redis the backend has no default: each choice has its own setup.
		setString(&c.Keys.Backend, DefaultKeyBackend)
	}
	if c.Limits.AuthFailures == 0 {
		c.Limits.AuthFailures = DefaultAuthFailures
	}
	setDuration(&c.Limits.Window, DefaultAuthWindow)
	setDuration(&c.Limits.Cooloff, DefaultAuthCooloff)
	setDuration(&c.Limits.StoreTimeout, DefaultStoreTimeout)
	if c.Audit.Checkpoint.Every == 0 {
		c.Audit.Checkpoint.Every = DefaultCheckpointEvery
	}
	setDuration(&c.Audit.Checkpoint.Interval, DefaultCheckpointInterval)
	if c.Audit.Memory.Retain == 0 {
		c.Audit.Memory.Retain = DefaultAuditMemoryRetain
	}
	if c.Audit.Memory.SinkBacklog == 0 {
		c.Audit.Memory.SinkBacklog = DefaultAuditSinkBacklog
	}
	c.applyAuditSinkDefaults()
	setString(&c.Keys.Algorithm, DefaultAlgorithm)
	setDuration(&c.Keys.Rotation.Period, DefaultRotationPeriod)
	setDuration(&c.Keys.Rotation.Prepublish, DefaultPrepublish)
	setDuration(&c.Keys.Rotation.Retain, DefaultRetain)
	setDuration(&c.Tokens.TTL, DefaultTokenTTL)
	if c.Tokens.DefaultAudience == "" {
		if u, err := url.Parse(c.Issuer); err == nil {
			c.Tokens.DefaultAudience = u.Host
		}
	}
	setDuration(&c.Runs.TTL, DefaultRunTTL)
	setDuration(&c.HTTP.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDuration(&c.HTTP.ReadTimeout, DefaultReadTimeout)
	setDuration(&c.HTTP.WriteTimeout, DefaultWriteTimeout)
	setDuration(&c.HTTP.IdleTimeout, DefaultIdleTimeout)
	setDuration(&c.HTTP.ShutdownTimeout, DefaultShutdownTimeout)

	hasRoot := false
	for _, s := range c.Spaces {
		if s.ID == RootSpace {
			hasRoot = true
			break
		}
	}
	if !hasRoot {
		c.Spaces = append(c.Spaces, Space{ID: RootSpace})
	}
	c.ApplyObjectDefaults()
}

// ApplyObjectDefaults fills the defaults of catalog objects (an integration's timeout, AWS
// mode and Vault mount). ApplyDefaults calls it; the API calls it on the objects it merges.
func (c *Config) ApplyObjectDefaults() {
	for i := range c.Integrations {
		in := &c.Integrations[i]
		setDuration(&in.Timeout, DefaultIntegrationTimeout)
		if in.AWS != nil {
			setString(&in.AWS.Mode, DefaultAWSMode)
		}
		if in.Vault != nil {
			setString(&in.Vault.Mount, DefaultVaultMount)
		}
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setDuration(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}
