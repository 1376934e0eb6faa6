package auditsink

import (
	"context"
	"errors"

	"github.com/brokerhq/broker/internal/audit"
)

// Sink receives batches of consecutive events of the chain, oldest first.
type Sink interface {
	// Deliver hands events over and returns nil once the sink has them (a 2xx answer, a
	// synced write). Deliver must honour ctx's deadline. Errors never hold a secret.
	Deliver(ctx context.Context, events []audit.Event) error
}

// ErrRejected is wrapped by the error of a delivery the receiver answered with anything but
// a 2xx status.
var ErrRejected = errors.New("audit sink rejected the delivery")

// ErrTooLarge is wrapped by the error of a delivery the receiver refused as too large (413):
// the worker sends the same events again in smaller batches.
var ErrTooLarge = errors.New("audit sink refused the delivery as too large")
