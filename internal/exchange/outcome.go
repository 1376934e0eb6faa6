package exchange

import (
	"errors"

	"github.com/brokerhq/broker/internal/runs"
)

// Outcome is how an exchange ended, as counted in broker_credentials_total and logged.
type Outcome string

// The outcomes of an exchange.
const (
	// Success: credentials were handed back.
	Success Outcome = "success"
	// Denied: the cloud or Vault refused the caller (UpstreamError.Denied), or broker refused
	// a run whose stored record is inconsistent.
	Denied Outcome = "denied"
	// Error: anything else; no answer, a 5xx, throttling, an unusable answer, a broker-side
	// failure, or the caller giving up.
	Error Outcome = "error"
)

// Outcomes lists every Outcome.
var Outcomes = []Outcome{Success, Denied, Error}

// Classify is the one rule that turns an exchange's error into its Outcome; it reads the
// *UpstreamError an exchanger returns, never an error's text.
func Classify(err error) Outcome {
	if err == nil {
		return Success
	}
	var up *UpstreamError
	if errors.As(err, &up) && up.Denied() {
		return Denied
	}
	if errors.Is(err, runs.ErrCorrupt) {
		return Denied
	}
	return Error
}
