package config

import (
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestCheckpointDefaultsAreVerifys: the replicas' checkpoint schedule by default is the one
// `broker audit verify` holds a trail to when no checkpoint names one (the audit package keeps
// its own copy so that the configuration, and the deploy module with it, need not import it).
func TestCheckpointDefaultsAreVerifys(t *testing.T) {
	if DefaultCheckpointEvery != audit.DefaultCheckpointEvery || DefaultCheckpointInterval != audit.DefaultCheckpointInterval {
		t.Errorf("configuration defaults %d, %s; verify's %d, %s", DefaultCheckpointEvery, DefaultCheckpointInterval,
			audit.DefaultCheckpointEvery, audit.DefaultCheckpointInterval)
	}
}
