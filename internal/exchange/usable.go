package exchange

import (
	"net/http"
	"time"

	"github.com/brokerhq/broker/internal/provider"
)

// MinValidity is how long credentials must still be valid when the upstream hands them over:
// less is not worth handing to a worker, which could not even start a call with them.
const MinValidity = provider.MinValidity

// Field is one part of an upstream's answer that must not be empty, by its name in that answer.
type Field struct {
	Name  string
	Value string
}

// Answer is an upstream's successful answer, as Usable checks it.
type Answer struct {
	// Provider is the exchange's provider.
	Provider string
	// From names the upstream in the error ("STS at https://sts.amazonaws.com").
	From string
	// Fields are the parts the credentials cannot work without; their values never reach the
	// error.
	Fields []Field
	// ExpiresAt is when the credentials stop working.
	ExpiresAt time.Time
	// Now is the instant of the check.
	Now time.Time
	// Asked is the lifetime broker asked for (see Lifetime, or the integration's duration);
	// zero when it asked for none.
	Asked time.Duration
}

// LifetimeSlack is how much later than the lifetime asked for credentials may expire: the
// upstream's clock may be ahead of broker's, as far as the clouds themselves tolerate.
const LifetimeSlack = provider.LifetimeSlack

// Usable refuses a 2xx answer that holds no usable credentials: one of a.Fields empty, no
// expiry, an expiry less than MinValidity after a.Now, or one more than LifetimeSlack past the
// lifetime asked for (credentials that outlive what the integration allows are not handed on). The error is an *UpstreamError with
// the answer's status (200), so the API answers 502 upstream_error and the exchange counts as
// failed, not denied; it names the missing field or the expiry, never a value.
func Usable(a Answer) error {
	for _, f := range a.Fields {
		if f.Value == "" {
			return a.refuse("credentials without " + f.Name)
		}
	}
	switch {
	case a.ExpiresAt.IsZero():
		return a.refuse("credentials without an expiry")
	case a.ExpiresAt.Before(a.Now.Add(MinValidity)):
		return a.refuse("credentials that expire at " + a.ExpiresAt.UTC().Format(time.RFC3339) +
			", less than " + MinValidity.String() + " from now")
	case a.Asked > 0 && a.ExpiresAt.After(a.Now.Add(a.Asked+LifetimeSlack)):
		return a.refuse("credentials that expire at " + a.ExpiresAt.UTC().Format(time.RFC3339) +
			", later than the " + a.Asked.String() + " asked for")
	}
	return nil
}

func (a Answer) refuse(what string) error {
	return Upstream(a.Provider, UpstreamAnswer{Status: http.StatusOK, Message: a.From + " answered " + what})
}
