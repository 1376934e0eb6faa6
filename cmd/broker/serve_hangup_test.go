package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// waitForStderr waits up to 10 s for want to appear in the stderr of p, failing the test if p
// exits first or the text never comes.
func waitForStderr(t *testing.T, p brokerProcess, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.stderr.String(), want); {
		select {
		case err := <-p.done:
			t.Fatalf("broker serve ended (%v) before it wrote %q:\n%s", err, want, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker serve did not write %q:\n%s", want, p.stderr.String())
		}
	}
}

// TestSIGHUPOnTheEmbeddedDefaultOnlyWarns pins that a SIGHUP to broker serve running on the
// embedded default (which has no file to re-read) is logged as a warning and nothing else: it is
// not handed to the server as a failed reload (no "config reload refused" error line, no denied
// config.reload event), and serve keeps running.
// Guards against: serve.go:runServe `file = ""` for the embedded default dropped (Path = "embedded
// default")
// Guards against: reload.go:hangupReload.run `continue` after the embedded-default warning dropped
// Guards against: reload.go:hangupReload.run `h.Path == ""` -> `h.Path != ""`
func TestSIGHUPOnTheEmbeddedDefaultOnlyWarns(t *testing.T) {
	addr := freeAddr(t)
	p := startBroker(t, []string{"BROKER_CONFIG="}, "serve", "--listen", addr, "--log-format", "json")
	waitReady(t, "http://"+addr)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForStderr(t, p, "no configuration file to re-read")
	// A second SIGHUP is handled as the first: the loop went on after the warning.
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(p.stderr.String(), "no configuration file to re-read") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second SIGHUP was not handled:\n%s", p.stderr.String())
		}
	}
	if logs := p.stderr.String(); strings.Contains(logs, "config reload refused") || strings.Contains(logs, "config reloaded") {
		t.Errorf("a SIGHUP on the embedded default was handed to the server as a reload:\n%s", logs)
	}
	select {
	case err := <-p.done:
		t.Fatalf("broker serve ended after the SIGHUPs: %v\n%s", err, p.stderr.String())
	default:
	}
}

// TestBootstrapSecretShownOnce pins that the bootstrap admin API key of the embedded default
// appears on stderr exactly once, on its own printed line, and in no log record.
// Guards against: serve.go:runServe the starting log line carrying the bootstrap secret as an
// attribute
func TestBootstrapSecretShownOnce(t *testing.T) {
	addr := freeAddr(t)
	logs := startProcess(t, []string{"BROKER_CONFIG="}, "serve", "--listen", addr, "--log-format", "json")
	waitReady(t, "http://"+addr)
	m := adminKeyLine.FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no bootstrap admin API key line:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), m[1]); n != 1 {
		t.Errorf("the bootstrap secret appears %d times on stderr, want once:\n%s", n, logs.String())
	}
}

// TestListenHintOnlyOnTheEmbeddedDefault pins that an invalid --listen on a configuration
// file is refused without the embedded default's hint (that the issuer follows --listen),
// which is false for a file, whose issuer stays the file's; on the embedded default the hint is
// given.
// Guards against: serve.go:applyListen hint given whatever embeddedDefault
// Guards against: serve.go:applyListen hint never given
func TestListenHintOnlyOnTheEmbeddedDefault(t *testing.T) {
	file, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	err = applyListen(file, listenFlag{Addr: "8080"})
	if err == nil || strings.Contains(err.Error(), "issuer follows --listen") {
		t.Errorf("--listen 8080 on a file: %v; want a refusal without the embedded default's hint", err)
	}
	def, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	err = applyListen(def, listenFlag{Addr: "0.0.0.0:8080", EmbeddedDefault: true})
	if err == nil || !strings.Contains(err.Error(), "issuer follows --listen") {
		t.Errorf("--listen 0.0.0.0:8080 on the embedded default: %v; want the hint", err)
	}
}

// TestSIGHUPBeforeItIsReadWaits pins that a SIGHUP arriving while nobody reads the
// hangups channel (serve still starting, before reloads are handled) waits in it, and is not
// dropped.
// Guards against: reload.go:hangups channel capacity 1 -> 0
func TestSIGHUPBeforeItIsReadWaits(t *testing.T) {
	// A catcher of its own, so that a SIGHUP hangups failed to catch cannot end the test binary.
	safety := make(chan os.Signal, 1)
	signal.Notify(safety, syscall.SIGHUP)
	defer signal.Stop(safety)
	ch, stop := hangups()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// Nobody reads while the signal is delivered.
	time.Sleep(200 * time.Millisecond)
	select {
	case sig := <-ch:
		if sig != syscall.SIGHUP {
			t.Errorf("got %v, want SIGHUP", sig)
		}
	case <-time.After(2 * time.Second):
		t.Error("a SIGHUP sent before the channel was read was dropped")
	}
}

// TestServeStopsItsReloadLoop pins that broker serve's SIGHUP loop ends with serve, also when
// serve ends on its own (here a listen address already taken) while its caller's context lives
// on: no reload goroutine outlives the call, and so none can reload a closed server.
func TestServeStopsItsReloadLoop(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncbuf.Buffer
	code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }},
		[]string{"serve", "--listen", taken.Addr().String()})
	if code == 0 {
		t.Fatalf("serve on a taken address exited 0:\n%s", errb.String())
	}
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "hangupReload") {
			t.Errorf("a reload loop outlived serve (its context still live):\n%s", g)
		}
	}
}
