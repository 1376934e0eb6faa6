//go:build !linux

package fastpath

// peekHangUp reports no hang-up, ever, where the fast path cannot look at a socket without
// reading it: the watch waits until the answer is done.
func peekHangUp(uintptr) (hungUp, ready bool) { return false, false }
