// Package issuer mints broker's signed ID tokens and publishes what relying parties need to
// verify them: the OIDC discovery document and the JWKS, rebuilt once per key change and served
// with ETag and Cache-Control.
package issuer
