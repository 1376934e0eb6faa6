// Package audittest is the contract suite every audit.Store must pass.
package audittest
