// Package runstest is the contract test suite every runs.Store implementation must pass.
//
// A store's tests call TestStore (or TestStoreWith) with a Factory that builds a fresh, empty
// store for each subtest. The suite owns a FakeClock and hands it to the factory: a store that
// reads the time through a function (like runs.Memory) should use clock.Now, so the suite can
// move time forward deterministically. A store that expires runs by the wall clock (like a
// Redis store using key TTLs) ignores the clock and sets Options.RealTime: the suite then
// creates runs at the real time, uses a short TTL for the expiry case and polls until the run
// disappears instead of advancing the fake clock.
package runstest
