// Package exchangetest is the contract every exchange.Exchanger meets, run against each
// provider's emulator on loopback: success, retry on 5xx and on throttling only, no retry on a
// 4xx refusal, the caller's cancellation, the integration's own timeout, concurrent calls, and
// the cloud's message passed on without the broker token or any credential. Each exchanger's
// tests supply a Harness: how to start its upstream behind Faults, which request to break, and
// the provider's shape of a refusal and of throttling.
package exchangetest
