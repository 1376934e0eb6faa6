package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// TestServeFailsWhenItCannotListen pins that broker serve whose address is taken exits 1 with one
// line naming the error, not 0 as if it had been stopped.
// Guards against: serve.go:94 serveErr dropped (if serveErr != nil -> never)
func TestServeFailsWhenItCannotListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, []string{"serve", "--listen", ln.Addr().String()})
	if ctx.Err() != nil {
		t.Fatalf("serve on a taken address ran until the deadline: %q", errb.String())
	}
	last := lines(errb.String())
	if code != exitError || len(last) == 0 || !strings.HasPrefix(last[len(last)-1], "broker serve: ") {
		t.Errorf("exit %d, stderr %q; want 1 and a last line broker serve: ...", code, errb.String())
	}
}

// TestListenMovesTheEmbeddedDefaultsIssuerAndAudience pins --listen on the embedded default: the
// issuer and the default audience follow the address; on a configuration file neither changes.
// Guards against: serve.go:153 cfg.Tokens.DefaultAudience = listen dropped
func TestListenMovesTheEmbeddedDefaultsIssuerAndAudience(t *testing.T) {
	cfg, secret, err := config.Default()
	if err != nil || secret == "" {
		t.Fatalf("embedded default: %v", err)
	}
	if err := applyListen(cfg, listenFlag{Addr: "127.0.0.1:9999", EmbeddedDefault: true}); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.Issuer != "http://127.0.0.1:9999" || cfg.Tokens.DefaultAudience != "127.0.0.1:9999" {
		t.Errorf("listen %q, issuer %q, default audience %q; want all to follow 127.0.0.1:9999", cfg.Listen, cfg.Issuer, cfg.Tokens.DefaultAudience)
	}

	file, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	issuer, aud := file.Issuer, file.Tokens.DefaultAudience
	if err := applyListen(file, listenFlag{Addr: "127.0.0.1:9998"}); err != nil {
		t.Fatal(err)
	}
	if file.Listen != "127.0.0.1:9998" || file.Issuer != issuer || file.Tokens.DefaultAudience != aud {
		t.Errorf("on a file: listen %q, issuer %q (was %q), default audience %q (was %q)", file.Listen, file.Issuer, issuer, file.Tokens.DefaultAudience, aud)
	}
}

// TestServeReadsBrokerConfig pins that broker serve without --config reads the file $BROKER_CONFIG
// names instead of starting the embedded demo (in-memory store, bootstrap admin key): a
// BROKER_CONFIG naming an invalid file is an error (exit 1) that names the file, and nothing is
// served.
// Guards against: serve.go:22 loadConfig drops path = e.getenv("BROKER_CONFIG")
func TestServeReadsBrokerConfig(t *testing.T) {
	bad := writeFile(t, "production.yaml", "issuer: http://example.com\nlisten: 127.0.0.1:0\nstacks:\n  - {id: Bad_Id, space: nowhere}\n")
	vars := map[string]string{"BROKER_CONFIG": bad}
	// On the embedded default the command would serve until the deadline, then exit 0.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}, []string{"serve", "--listen", "127.0.0.1:0"})
	if code != exitError || !strings.Contains(errb.String(), "production.yaml") {
		t.Errorf("exit %d, stderr %q; want 1 and an error naming production.yaml", code, errb.String())
	}
	if strings.Contains(errb.String(), "bootstrap admin API key") {
		t.Errorf("started on the embedded default: %q", errb.String())
	}

	good := writeFile(t, "broker.yaml", "issuer: https://broker.example.com\nlisten: 127.0.0.1:0\n")
	cfg, secret, err := loadConfig(env{getenv: func(k string) string { return map[string]string{"BROKER_CONFIG": good}[k] }}, "")
	if err != nil {
		t.Fatalf("loadConfig with BROKER_CONFIG: %v", err)
	}
	if secret != "" || cfg.Issuer != "https://broker.example.com" {
		t.Errorf("loadConfig with BROKER_CONFIG: issuer %q, secret given %v, err %v; want the file's issuer and no secret", cfg.Issuer, secret != "", err)
	}
}

// TestListenPortZeroOnTheEmbeddedDefault pins that the embedded default refuses a --listen on
// port 0, as a usage error naming the address: its issuer follows --listen, and an issuer on
// port 0 names no server relying parties could reach. A configuration file, whose issuer is its
// own, may listen on port 0.
func TestListenPortZeroOnTheEmbeddedDefault(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:00", "localhost:0"} {
		def, _, err := config.Default()
		if err != nil {
			t.Fatal(err)
		}
		err = applyListen(def, listenFlag{Addr: addr, EmbeddedDefault: true})
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "port 0") {
			t.Errorf("--listen %s on the embedded default: %v; want a usage error naming it and port 0", addr, err)
		}
	}
	file, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	issuer := file.Issuer
	if err := applyListen(file, listenFlag{Addr: "127.0.0.1:0"}); err != nil || file.Issuer != issuer || file.Listen != "127.0.0.1:0" {
		t.Errorf("--listen 127.0.0.1:0 on a file: %v, issuer %q, listen %q; want it taken, the issuer kept", err, file.Issuer, file.Listen)
	}
}
