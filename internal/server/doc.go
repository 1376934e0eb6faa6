// Package server assembles broker from its configuration: the key manager, the run store, the
// issuer and the HTTP API, and runs them until its context ends, then shuts down gracefully.
package server
