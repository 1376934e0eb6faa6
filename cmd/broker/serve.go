package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/gcfloor"
	"github.com/brokerhq/broker/internal/logging"
	"github.com/brokerhq/broker/internal/redact"
	"github.com/brokerhq/broker/internal/server"
)

// loadConfig reads the configuration at path, else at $BROKER_CONFIG, else the embedded default,
// whose bootstrap admin secret it also returns (empty for a file).
func loadConfig(e env, path string) (*config.Config, string, error) {
	if path == "" {
		path = e.getenv("BROKER_CONFIG")
	}
	if path != "" {
		cfg, err := config.Load(path)
		return cfg, "", err
	}
	cfg, secret, err := config.Default()
	if err != nil {
		return nil, "", fmt.Errorf("embedded default configuration: %w", err)
	}
	return cfg, secret, nil
}

func runServe(ctx context.Context, e env, args []string) error {
	hup, stopHangups := hangups()
	defer stopHangups()
	fs := newFlags("serve", e)
	path := fs.String("config", "", "configuration file (default $BROKER_CONFIG, else the embedded default)")
	logFormat := fs.String("log-format", "", "log format: text or json (default: json unless stderr is a terminal)")
	listen := fs.String("listen", "", "override the listen address (with the embedded default, the issuer follows it)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	format, err := logFormatFor(e.stderr, *logFormat)
	if err != nil {
		return err
	}
	// Log lines are group-committed: under load one write(2) to stderr carries many. Closing
	// on every return writes the last lines ("stopped", the lines before a start-up error)
	// before run prints the error itself.
	logOut := logging.NewWriter(e.stderr, logging.Config{})
	defer logOut.Close()
	log := slog.New(logHandler(logOut, format))
	// A small heap that allocates fast is collected as if it were DefaultFloor's size, unless
	// GOGC was set by hand.
	if os.Getenv("GOGC") == "" {
		defer gcfloor.Start(gcfloor.Config{Floor: gcfloor.DefaultFloor})()
	}
	cfg, adminSecret, err := loadConfig(e, *path)
	if err != nil {
		return err
	}
	if err := applyListen(cfg, listenFlag{Addr: *listen, EmbeddedDefault: adminSecret != ""}); err != nil {
		return err
	}
	if adminSecret != "" {
		log.Info("starting on the embedded default configuration: in-memory store, ephemeral signing key, demo space and stack; not for production",
			"issuer", cfg.Issuer, "version", versionString())
		// The one time this secret is shown; it is not logged through the logger, and is printed
		// after the queued "starting" line.
		_ = logOut.Flush()
		fmt.Fprintf(e.stderr, "\nbootstrap admin API key (shown once, not stored): %s\n\n", adminSecret)
		if *listen != "" {
			// --listen moved the issuer, not the demo integrations' endpoints.
			fmt.Fprintf(e.stderr, "the demo integrations still point at broker emulator's default addresses; start it with: broker emulator --issuer %s\n\n", cfg.Issuer)
		}
	} else {
		log.Info("starting with configuration file", "config", cfg.Source, "issuer", cfg.Issuer, "version", versionString())
	}
	srv, err := server.New(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		return err
	}
	file := cfg.Source // the path Load read; the embedded default has none
	if adminSecret != "" {
		file = ""
	}
	// Reloads stop when serve does, however it ends (its context, or a listener that failed),
	// and before the server closes.
	reloadCtx, stopReloads := context.WithCancel(ctx)
	reloads := hangupReload{Server: srv, Path: file, Listen: *listen, Log: log}.run(reloadCtx, hup)
	serveErr := srv.ListenAndServe(ctx)
	stopReloads()
	<-reloads
	if err := srv.Close(); err != nil {
		log.Warn("closing the state store", "err", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

// logFormatFor is the log format a --log-format value asks for, for logs that end up on stderr:
// "text" or "json" as asked, or, when empty, JSON unless stderr is a terminal (a person reading)
// and text when it is.
func logFormatFor(stderr io.Writer, flag string) (string, error) {
	switch flag {
	case "":
		if isTerminal(stderr) {
			return "text", nil
		}
		return "json", nil
	case "text", "json":
		return flag, nil
	}
	return "", usagef("--log-format must be text or json, not %s", shownArg(flag))
}

// logHandler is the server's log handler on w in format "text", else JSON (slog's, writing
// request lines on a faster path), cutting every secret out of its lines (see redact.NewHandler).
func logHandler(w io.Writer, format string) slog.Handler {
	if format == "text" {
		return redact.NewHandler(slog.NewTextHandler(w, nil))
	}
	return redact.NewHandler(logging.NewJSONHandler(w))
}

// isTerminal reports whether w is a file open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// listenFlag is --listen as serve applies it.
type listenFlag struct {
	// Addr is the flag's address, empty when it is not given.
	Addr string
	// EmbeddedDefault is set when serve runs on the embedded default configuration, whose
	// issuer and default audience follow the address.
	EmbeddedDefault bool
}

// applyListen applies --listen to cfg (on the embedded default the issuer and default audience
// follow it) and validates the result again: the file or default passed validation before the
// flag changed it, and a flag must not make a configuration the file could not hold (an http
// issuer on a non-loopback address, for one).
func applyListen(cfg *config.Config, flag listenFlag) error {
	listen, embeddedDefault := flag.Addr, flag.EmbeddedDefault
	if listen == "" {
		return nil
	}
	cfg.Listen = listen
	if embeddedDefault {
		if _, port, err := net.SplitHostPort(listen); err == nil && isPortZero(port) {
			return usagef("--listen %q: on the embedded default the issuer follows --listen, and an issuer on port 0 names no server: give a port", listen)
		}
		cfg.Issuer = "http://" + listen
		cfg.Tokens.DefaultAudience = listen
	}
	if err := cfg.Validate(); err != nil {
		hint := ""
		if embeddedDefault {
			hint = " (on the embedded default the issuer follows --listen: listen on a loopback address, or use --config with an https issuer)"
		}
		return usagef("--listen %q: %s%s", listen, oneLine(err.Error()), hint)
	}
	return nil
}

// isPortZero reports whether port is a decimal port number of zero ("0", "00"), which asks the
// system for any free port.
func isPortZero(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n == 0
}
