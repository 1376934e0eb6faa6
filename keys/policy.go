package keys

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Policy is the key schedule. A key signs for Period; its successor is saved Lead before it takes
// over, so that it has been in every replica's JWKS for Prepublish by then; a key that stopped
// signing stays published for Retain, which should be at least the lifetime of the tokens it
// signed.
type Policy struct {
	// Period is how long each key signs.
	Period time.Duration
	// Prepublish is how long a new key is published (on every replica) before it signs. It must be
	// less than Period.
	Prepublish time.Duration
	// Retain is how long a key stays published after it stops signing.
	Retain time.Duration
	// Alg is the configured algorithm: RS256 (also when empty) or ES256.
	Alg string
	// Also lists further algorithms to keep a key chain of, for relying parties that accept no
	// other (Entra ID accepts RS256 only). Each algorithm's chain rotates on its own by the same
	// schedule; a key of an algorithm in neither Alg nor Also is retired and then dropped.
	Also []string
}

// Refresh intervals: RefreshInterval keeps to these bounds.
const (
	minRefreshInterval = 250 * time.Millisecond
	maxRefreshInterval = 30 * time.Second
)

// RefreshInterval is how often every replica re-reads the key set under a policy whose
// prepublish period is prepublish: a sixteenth of it, at least 250ms and at most 30s. A saved
// change is therefore in every replica's JWKS within one interval plus the time one refresh
// takes, which is why a new key signs only Lead after it is saved.
func RefreshInterval(prepublish time.Duration) time.Duration {
	return min(max(prepublish/16, minRefreshInterval), maxRefreshInterval)
}

// Lead is how long after it is saved a new key starts signing: two refresh intervals for every
// replica to pick it up (one to reach the next refresh, one more for that refresh to load the
// set, however slow the store), then Prepublish during which every replica's JWKS holds it.
func (p Policy) Lead() time.Duration { return 2*RefreshInterval(p.Prepublish) + p.Prepublish }

// MaxClockSkew is how far apart the replicas' clocks may be: as much as a token's nbf is
// backdated for the relying parties' clocks.
const MaxClockSkew = time.Minute

// Linger is how long after the schedule's last instant for a key to sign (signsUntil) a replica
// may still sign with it: its snapshot is put in force at a refresh, so it may be up to two
// refresh intervals old (one to reach the next refresh, one for that refresh to finish), and its
// clock may be MaxClockSkew behind. A retired key stays published Linger plus Retain after that
// instant, so the last token any replica signed with it verifies until it expires.
func (p Policy) Linger() time.Duration { return 2*RefreshInterval(p.Prepublish) + MaxClockSkew }

// Algorithms returns the algorithms whose chains p maintains: Alg (normalized) first, then Also
// without repeats.
func (p Policy) Algorithms() []string {
	first, _ := NormalizeAlg(p.Alg)
	out := []string{first}
	for _, a := range p.Also {
		if n, err := NormalizeAlg(a); err == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// withAlg returns p maintaining alg as its configured algorithm.
func (p Policy) withAlg(alg string) Policy {
	p.Alg = alg
	return p
}

// DefaultPolicy is the schedule of the reference configuration: 720h, 24h, 24h, RS256.
func DefaultPolicy() Policy {
	return Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: RS256}
}

// ErrInvalidPolicy is returned by Policy.Validate.
var ErrInvalidPolicy = errors.New("keys: invalid rotation policy")

// MaxPolicyDuration bounds a policy's period, prepublish and retain (ten years): the schedule
// adds them up, with its slack, and a sum past the largest time.Duration would wrap around.
const MaxPolicyDuration = 10 * 365 * 24 * time.Hour

// Validate checks that Period is positive and Prepublish and Retain are not negative, each at
// most MaxPolicyDuration, Prepublish is less than Period (or every new key would at once need a
// successor) and Alg is supported.
func (p Policy) Validate() error {
	switch {
	case p.Period > MaxPolicyDuration || p.Prepublish > MaxPolicyDuration || p.Retain > MaxPolicyDuration:
		return fmt.Errorf("%w: period %s, prepublish %s and retain %s must each be at most %s", ErrInvalidPolicy, p.Period, p.Prepublish, p.Retain, MaxPolicyDuration)
	case p.Period <= 0:
		return fmt.Errorf("%w: period %s must be positive", ErrInvalidPolicy, p.Period)
	case p.Prepublish < 0 || p.Retain < 0:
		return fmt.Errorf("%w: prepublish %s and retain %s must not be negative", ErrInvalidPolicy, p.Prepublish, p.Retain)
	case p.Prepublish >= p.Period:
		return fmt.Errorf("%w: prepublish %s must be less than period %s", ErrInvalidPolicy, p.Prepublish, p.Period)
	}
	for _, a := range append([]string{p.Alg}, p.Also...) {
		if _, err := NormalizeAlg(a); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
	}
	return nil
}
