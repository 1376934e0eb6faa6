// Package fakeclock is a settable clock for tests: code under test reads it through the method
// value Clock.Now (a func() time.Time), and the test moves it with Advance and Set.
package fakeclock
