// Package oidctest is a minimal OIDC issuer for tests: it serves discovery and a JWKS on a
// loopback httptest server and signs arbitrary claims, including deliberately bad tokens
// (unknown key, other algorithm, expired), so that emulators' refusals can be tested.
package oidctest
