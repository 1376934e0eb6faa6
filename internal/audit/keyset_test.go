package audit_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
)

func TestMemoryKeySet(t *testing.T) {
	audittest.TestKeySet(t, func(*testing.T) (audit.KeySetStore, audit.KeySetStore) {
		m := &audit.MemoryKeySet{}
		return m, m
	})
}
