package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/issuer"
)

// TestMintErrorNamesWhenTheAlgorithmsKeySigns: a token refused because the audience's only
// algorithm has no key due yet is a 503 saying which algorithm and from when; any other missing
// key is the generic 503.
func TestMintErrorNamesWhenTheAlgorithmsKeySigns(t *testing.T) {
	due := time.Date(2026, 12, 6, 0, 1, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"prepublished", fmt.Errorf("mint: %w", &issuer.AlgNotDueError{Alg: "RS256", Due: due}), []string{"accepts only RS256", "2026-12-06T00:01:00Z", "keys.rotation.prepublish"}},
		{"none kept", &issuer.AlgNotDueError{Alg: "RS256"}, []string{"No signing key is active yet"}},
		{"no key at all", issuer.ErrNoSigningKey, []string{"No signing key is active yet"}},
	}
	for _, tt := range tests {
		var e *apierror.Error
		if !errors.As(mintError(tt.err), &e) || e.Code != apierror.CodeUnavailable {
			t.Errorf("%s: mintError = %v, want %s", tt.name, mintError(tt.err), apierror.CodeUnavailable)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%s: message %q lacks %q", tt.name, e.Message, w)
			}
		}
	}
}
