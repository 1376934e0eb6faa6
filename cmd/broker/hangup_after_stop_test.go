package main

import (
	"context"
	"log/slog"
	"os"
	"syscall"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestHangupAfterStopIsDropped: once serve's context has ended (the stop, and with it the
// drain and the audit sinks' final flush, has begun), a SIGHUP is dropped, never handled: a
// reload then would put a file in force and record its config.reload event while the replica
// stops, after the sinks took their last events (with the memory store, lost to them). With the
// embedded default a handled SIGHUP logs a warning, so any log line means it was handled.
func TestHangupAfterStopIsDropped(t *testing.T) {
	for range 64 {
		var logs syncbuf.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the stop began
		hup := make(chan os.Signal, 1)
		hup <- syscall.SIGHUP // and a SIGHUP came after it
		h := hangupReload{Log: slog.New(slog.NewTextHandler(&logs, nil))}
		<-h.run(ctx, hup)
		if got := logs.String(); got != "" {
			t.Fatalf("a SIGHUP after the stop began was handled:\n%s", got)
		}
	}
}
