package runstest

import (
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// FakeClock is a settable clock, safe for concurrent use (a fakeclock.Clock).
type FakeClock = fakeclock.Clock

// NewFakeClock returns a clock that reads start until moved.
func NewFakeClock(start time.Time) *FakeClock { return fakeclock.New(start) }
