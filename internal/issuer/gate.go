package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"runtime"
)

// signGate bounds how many signatures with in-process keys are computed at once. A signature is
// pure CPU: more of them at once than there are cores only makes each one slower, and lets the
// scheduler favour some requests over others. Waiters are admitted first come, first served: a
// goroutine blocked sending on a full channel is queued, and each release hands its slot to the
// longest waiting one.
type signGate chan struct{}

// newSignGate admits n signatures at once; n <= 0 means GOMAXPROCS.
func newSignGate(n int) signGate {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return make(signGate, n)
}

func (g signGate) enter() { g <- struct{}{} }
func (g signGate) leave() { <-g }

// inProcess reports whether s computes its signatures on this machine's CPU (a private key held
// in memory), as opposed to a remote signer whose latency is not CPU and must not be bounded by
// the cores.
func inProcess(s crypto.Signer) bool {
	switch s.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, *ed25519.PrivateKey:
		return true
	}
	return false
}

// signatureB64Len is the base64url length of a JWS signature by s: RSA's is the modulus size,
// ECDSA's R||S twice the curve's byte size; 0 for other keys.
func signatureB64Len(s crypto.Signer) int {
	switch pub := s.Public().(type) {
	case *rsa.PublicKey:
		return base64.RawURLEncoding.EncodedLen(pub.Size())
	case *ecdsa.PublicKey:
		return base64.RawURLEncoding.EncodedLen(2 * ((pub.Curve.Params().BitSize + 7) / 8))
	}
	return 0
}
