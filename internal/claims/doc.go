// Package claims is the model of broker's ID token claims (contract section 5) and of the `sub`
// templates spaces may set.
package claims
