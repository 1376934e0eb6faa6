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

// reloadOnHangup re-reads the configuration file at path on every SIGHUP until ctx ends and
// hands it to srv.Reload, which refuses an invalid file as a whole. With the embedded default
// there is no file to re-read, and a SIGHUP is only logged.
func reloadOnHangup(ctx context.Context, srv *server.Server, path string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if path == "" {
					log.Warn("SIGHUP: running on the embedded default, there is no configuration file to re-read")
					continue
				}
				cfg, err := config.Load(path)
				_ = srv.Reload(ctx, cfg, err)
			}
		}
	}()
}
