package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"runtime"
	"time"
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

// enter takes a slot, waiting for one when all are taken, and reports whether it waited.
func (g signGate) enter() (waited bool) {
	select {
	case g <- struct{}{}:
		return false
	default:
	}
	g <- struct{}{}
	return true
}

// letArrivalsQueue yields the processor for a moment before a long signature taken over from
// another waiter. A released slot wakes the next waiter ahead of everything else runnable, so
// while every core signs back to back the runtime does not look at the network: requests that
// arrived meanwhile are read only tens of milliseconds later and join the queue behind others
// that came after them. Sleeping once (a microsecond) lets the processor poll the network
// first, so arrivals queue in the order they came; the slot is held meanwhile, so no more
// signatures run at once than there are slots. Short signatures (ECDSA) do not need it: their
// goroutines block often enough for the network to be polled.
var letArrivalsQueue = func() { time.Sleep(time.Microsecond) }

// signLength says how long one signature holds a core.
type signLength int

const (
	// shortSign is a signature short enough (ECDSA, Ed25519) that its goroutine blocks often
	// enough for the network to be polled.
	shortSign signLength = iota
	// longSign is a signature that holds a core about a millisecond (RSA-2048).
	longSign
)

// enterFor takes a slot for a signature of length n, and lets arrivals queue first when the
// slot was taken over after a wait for a long one.
func (g signGate) enterFor(n signLength) {
	if g.enter() && n == longSign {
		letArrivalsQueue()
	}
}

// leave frees the slot taken by enter or enterFor.
func (g signGate) leave() { <-g }

// idle reports whether no signature holds a slot. A waiter implies a full gate, so idle also
// means none waits.
func (g signGate) idle() bool { return len(g) == 0 }

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

// signLengthOf is longSign when one signature by s holds a core long enough (an RSA key: about
// a millisecond at 2048 bits) that letArrivalsQueue is worth its cost, else shortSign.
func signLengthOf(s crypto.Signer) signLength {
	if _, ok := s.(*rsa.PrivateKey); ok {
		return longSign
	}
	return shortSign
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
