package access_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
)

// TestCoversSubtree pins that Covers holds for a binding's own space and its whole subtree
// (ancestors of the asked space count), and for nothing outside it.
// Guards against: internal/access/authorizer.go:154 Covers checks only the exact space, not its
// ancestors
func TestCoversSubtree(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		key, space string
		want       bool
	}{
		{"ci-prod", "prod", true},
		{"ci-prod", "prod-eu", true},
		{"ci-prod", "prod-eu-1", true},
		{"admin", "dev", true},
		{"ci-eu", "prod", false},
		{"ci-eu", "prod-us", false},
		{"ci-prod", "dev", false},
		{"ci-prod", "nowhere", false},
	}
	for _, tt := range tests {
		if got := a.Covers(access.Principal{KeyID: tt.key}, tt.space); got != tt.want {
			t.Errorf("Covers(%s, %s) = %v, want %v", tt.key, tt.space, got, tt.want)
		}
	}
}

// TestHoldsEveryAction pins that Holds is true only when the key holds every one of the actions in
// the space: one missing action anywhere in the list (not only the first) is enough to refuse, so a
// key cannot grant another key an action it lacks.
// Guards against: internal/access/authorizer.go:169 Holds checks only the first action
func TestHoldsEveryAction(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		key, space string
		actions    []string
		want       bool
	}{
		{"ci-prod", "prod-eu", []string{config.ActionRunCreate, config.ActionRunUpdate}, true},
		{"ci-prod", "prod-eu", nil, true},
		{"ci-prod", "prod-eu", []string{config.ActionRunCreate, config.ActionSpaceAdmin}, false},
		{"ci-prod", "prod-eu", []string{config.ActionRunRead, config.ActionRunUpdate, config.ActionAuditRead}, false},
		{"ci-prod", "prod-eu", []string{config.ActionSpaceAdmin, config.ActionRunCreate}, false},
		{"audit-dev", "prod-us", []string{config.ActionRunCreate, config.ActionAuditRead}, false},
		{"admin", "prod-eu-1", []string{config.ActionRunCreate, config.ActionSpaceAdmin, config.ActionAuditRead}, true},
	}
	for _, tt := range tests {
		if got := a.Holds(access.Principal{KeyID: tt.key}, tt.space, tt.actions); got != tt.want {
			t.Errorf("Holds(%s, %s, %v) = %v, want %v", tt.key, tt.space, tt.actions, got, tt.want)
		}
	}
}
