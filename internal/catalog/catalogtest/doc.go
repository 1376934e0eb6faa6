// Package catalogtest is the contract every catalog.Store implementation must pass.
package catalogtest
