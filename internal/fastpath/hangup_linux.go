package fastpath

import "syscall"

// peekHangUp looks at the socket fd without taking a byte: hungUp when the client closed or
// reset the connection, ready when there is an answer (a hang-up, or bytes of a next request,
// which end the watch as net/http's read of one byte ends its own).
func peekHangUp(fd uintptr) (hungUp, ready bool) {
	var b [1]byte
	for {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false, false
		case err != nil, n == 0:
			return true, true
		default:
			return false, true
		}
	}
}
