package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestMintErrorOfAnEndedRun checks that a token refused because its run has ended while it was
// prepared (the run expired, or its space left the catalog after the run was found live) is
// answered as any ended run's, 401, never as a server error.
func TestMintErrorOfAnEndedRun(t *testing.T) {
	for _, err := range []error{
		issuer.ErrRunExpired,
		fmt.Errorf("%w: prod", issuer.ErrUnknownSpace),
	} {
		if got := mintError(err); !errors.Is(got, errRunToken) {
			t.Errorf("mintError(%v) = %v, want the run token's refusal (401)", err, got)
		}
	}
}
