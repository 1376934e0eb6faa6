// Package ratelimittest is the contract suite every ratelimit.Limiter must pass.
package ratelimittest
