package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/emulator"
)

// runEmulator serves strict emulators of AWS STS, Google STS/IAM Credentials, Entra ID and
// Vault's JWT login that trust the broker of a configuration exactly as `broker trust` would
// set it up, so broker can be tried without a cloud account.
func runEmulator(ctx context.Context, e env, args []string) error {
	fs := newFlags("emulator", e)
	path := fs.String("config", "", "broker configuration whose integrations to emulate (default $BROKER_CONFIG, else the embedded default)")
	listen := fs.String("listen", "127.0.0.1:8081", "address for AWS STS, Google and Vault (http)")
	tlsListen := fs.String("tls-listen", "127.0.0.1:8082", "address for Entra ID (https: Microsoft's client insists)")
	certFile := fs.String("cert-file", "", "also write the Entra emulator's certificate here (default: only the state directory's cert.pem)")
	stateDir := fs.String("state-dir", "", "private directory keeping the TLS certificate and key across restarts (default $XDG_STATE_HOME/broker/emulator, else ~/.local/state/broker/emulator)")
	issuer := fs.String("issuer", "", "trust tokens of this issuer instead of the configuration's (e.g. http://ADDR of broker serve --listen ADDR)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := checkLoopbackListen("--listen", *listen); err != nil {
		return err
	}
	if err := checkLoopbackListen("--tls-listen", *tlsListen); err != nil {
		return err
	}
	cfg, _, err := loadConfig(e, *path)
	if err != nil {
		return err
	}
	if *issuer != "" {
		if err := checkIssuerFlag(*issuer); err != nil {
			return err
		}
		cfg.Issuer = *issuer
	}
	state, err := emulatorState(e, *stateDir)
	if err != nil {
		return err
	}
	set, err := emulator.FromConfig(cfg, "https://"+*tlsListen)
	if err != nil {
		return err
	}
	cert, err := state.Certificate(time.Now())
	if err != nil {
		return err
	}
	certPath := state.CertPath()
	if *certFile != "" {
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
		if certPath, err = writeCertificate(*certFile, certPEM); err != nil {
			return fmt.Errorf("write certificate: %w", err)
		}
	}
	plainLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	tlsLn, err := net.Listen("tcp", *tlsListen)
	if err != nil {
		plainLn.Close()
		return fmt.Errorf("listen on %s: %w", *tlsListen, err)
	}
	tlsLn = tls.NewListener(tlsLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})

	fmt.Fprintf(e.stderr, "broker emulator: trusting tokens of %s\n", cfg.Issuer)
	fmt.Fprintf(e.stderr, "  AWS STS:             http://%s%s\n", *listen, emulator.AWSPath)
	fmt.Fprintf(e.stderr, "  Google STS:          http://%s%s\n", *listen, emulator.GCPSTSPath)
	fmt.Fprintf(e.stderr, "  Google IAM Creds:    http://%s%s\n", *listen, emulator.GCPIAMPath)
	fmt.Fprintf(e.stderr, "  Vault:               http://%s%s\n", *listen, emulator.VaultPath)
	fmt.Fprintf(e.stderr, "  Entra ID:            https://%s (AZURE_AUTHORITY_HOST; also https://%s%s)\n", *tlsListen, *tlsListen, emulator.AzurePath)
	fmt.Fprintf(e.stderr, "start broker with SSL_CERT_FILE=%s so it trusts the Entra emulator\n", certPath)
	if cfg.Source == config.DefaultSource && (*listen != fs.Lookup("listen").DefValue || *tlsListen != fs.Lookup("tls-listen").DefValue) {
		fmt.Fprintf(e.stderr, "note: the embedded default's demo integrations point at %s and %s: elsewhere, give broker serve a --config whose endpoints name these addresses\n",
			fs.Lookup("listen").DefValue, fs.Lookup("tls-listen").DefValue)
	}
	for _, n := range set.Notes {
		fmt.Fprintf(e.stderr, "note: %s\n", n)
	}

	servers := []*http.Server{
		{Handler: set.HTTPHandler(), ReadHeaderTimeout: 5 * time.Second},
		{Handler: set.TLSHandler(), ReadHeaderTimeout: 5 * time.Second},
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(plainLn) }()
	go func() { errc <- servers[1].Serve(tlsLn) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// writeCertificate writes the emulator's certificate to path, which a broker started with
// SSL_CERT_FILE trusts as its only root: it replaces what stands there through a rename from a
// fresh file beside it, never writing through a link that stands there.
func writeCertificate(path string, certPEM []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".broker-emulator-cert-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(certPEM)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // a public certificate; CreateTemp made it 0600
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return path, nil
}

// emulatorState is the state directory of --state-dir, else the default one.
func emulatorState(e env, dir string) (emulator.StateDir, error) {
	if dir == "" {
		d, err := emulator.DefaultStateDir(e.getenv)
		if err != nil {
			return emulator.StateDir{}, usagef("%v", err)
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return emulator.StateDir{}, usagef("--state-dir: %v", err)
	}
	return emulator.StateDir{Dir: abs}, nil
}

// checkLoopbackListen refuses an emulator address flag whose host is not loopback, every
// interface (an empty host, 0.0.0.0, ::) included.
func checkLoopbackListen(flag, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s %q: want HOST:PORT", flag, addr)
	}
	if !config.IsLoopbackHost(host) {
		return usagef("%s %q: the emulators listen on loopback only (127.0.0.1, ::1 or localhost): they hand out credentials for any token of the broker they trust, and their certificate names only loopback", flag, addr)
	}
	return nil
}

// checkIssuerFlag requires --issuer to be an issuer a broker can have (config.CheckIssuer):
// the emulators trust that issuer's tokens only, so any other would refuse every token.
func checkIssuerFlag(issuer string) error {
	if err := config.CheckIssuer(issuer); err != nil {
		return usagef("--issuer: want the broker's issuer URL, https://HOST[:PORT][/PATH]: %v", err)
	}
	return nil
}
