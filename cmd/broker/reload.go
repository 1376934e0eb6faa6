package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/server"
)

// hangups catches SIGHUP for the rest of the process's life: from the start of broker serve,
// before the server exists, to its exit, after its drain. A SIGHUP's default action ends the
// process, and `systemctl reload` sends one at any time; one that arrives before reloads are
// handled waits in the channel, and one after they stopped (the drain) is dropped.
func hangups() (ch <-chan os.Signal, stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup, func() { signal.Stop(hup) }
}

// hangupReload is what a SIGHUP reloads: Server, from the configuration file at Path ("" for
// the embedded default), logging to Log.
type hangupReload struct {
	Server *server.Server
	Path   string
	// Listen is serve's --listen, which overrides the file's listen on every reload as at
	// start-up ("" without the flag), so that a reload compares like with like.
	Listen string
	Log    *slog.Logger
}

// run re-reads the file on every SIGHUP from hup until ctx ends, and hands it to
// Server.Reload, which refuses an invalid file as a whole. With the embedded default there is
// no file to re-read, and a SIGHUP is only logged. The returned channel closes once the loop has
// stopped, so that no reload is under way when the server closes.
func (h hangupReload) run(ctx context.Context, hup <-chan os.Signal) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if ctx.Err() != nil {
					return // the stop began as it came (select picks either ready case): dropped
				}
				if h.Path == "" {
					h.Log.Warn("SIGHUP: running on the embedded default, there is no configuration file to re-read")
					continue
				}
				cfg, err := config.Load(h.Path)
				if err == nil && h.Listen != "" {
					cfg.Listen = h.Listen
				}
				_ = h.Server.Reload(ctx, cfg, err)
			}
		}
	}()
	return done
}
