package keys

import (
	"context"
	"errors"
)

// ErrUnavailable wraps every failure of a backend to reach the key service that holds its private
// keys (vault-transit): the service is down, unreachable, sealed or refusing for now. A token that
// cannot be signed for this reason is answered 503, and the keys already published stay served.
var ErrUnavailable = errors.New("keys: key service unavailable")

// ContextSigner is implemented by signers whose private key lives in a key service, so that a
// signature is bounded by the caller's context (crypto.Signer.Sign has none). SignJWS signs a
// SHA-256 digest and returns the signature in its JWS form: RSASSA-PKCS1-v1_5 bytes for RS256,
// the fixed-size R||S for ES256.
type ContextSigner interface {
	SignJWS(ctx context.Context, digest []byte) ([]byte, error)
}
