package main

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestHangupsStopReleasesSIGHUP checks that once the stop func of hangups has run, a
// SIGHUP is no longer delivered to its channel.
// Guards against: reload.go:hangups stop func no longer calls signal.Stop
func TestHangupsStopReleasesSIGHUP(t *testing.T) {
	// A catcher of its own, so that the SIGHUPs below cannot end the test binary.
	safety := make(chan os.Signal, 2)
	signal.Notify(safety, syscall.SIGHUP)
	defer signal.Stop(safety)
	ch, stop := hangups()
	stop()
	// Signals are handed to every catcher in turn, one signal after the other: once safety
	// holds the second, every catcher has been handed the first.
	for range 2 {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		<-safety
	}
	select {
	case sig := <-ch:
		t.Errorf("a stopped hangups channel still got %v", sig)
	default:
	}
}
