//go:build !linux

package loadgen

// newEventLoad returns nil: the event-loop driver is built on epoll, so other systems use the
// goroutine workers.
func newEventLoad(loadConfig) HTTPLoad { return nil }
