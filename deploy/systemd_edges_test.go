package deploy

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/configcheck"
	"github.com/brokerhq/broker/internal/config"
)

// TestSystemdStopTimeoutCoversDrain: TimeoutStopSec outlasts broker's longest graceful stop with
// the example configuration's http.shutdown_timeout (config.HTTP.StopBound: in-flight requests, then
// the audit sinks' final flush), or systemd SIGKILLs broker while in-flight requests finish or
// before the sinks get the end of the chain.
// Guards against: deploy/systemd/broker.service:33 TimeoutStopSec=45s -> 10s
func TestSystemdStopTimeoutCoversDrain(t *testing.T) {
	d := unitDirectives(t, "systemd/broker.service")
	if len(d["TimeoutStopSec"]) != 1 {
		t.Fatalf("TimeoutStopSec=%q", d["TimeoutStopSec"])
	}
	stop, err := time.ParseDuration(d["TimeoutStopSec"][0])
	if err != nil {
		t.Fatalf("TimeoutStopSec=%q: %v", d["TimeoutStopSec"][0], err)
	}
	data, err := os.ReadFile("systemd/broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("broker.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if bound := cfg.HTTP.StopBound(); stop <= bound {
		t.Errorf("TimeoutStopSec %s <= %s, the longest stop with http.shutdown_timeout %s: systemd cuts the stop short",
			stop, bound, cfg.HTTP.ShutdownTimeout)
	}
}

// TestSystemdExampleListensOnLoopback: without tls the example configuration serves plain HTTP for
// the reverse proxy on the same host, so it binds loopback only, never every interface.
// Guards against: deploy/systemd/broker.yaml:5 listen: 127.0.0.1:8080 -> 0.0.0.0:8080
func TestSystemdExampleListensOnLoopback(t *testing.T) {
	data, err := os.ReadFile("systemd/broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := configcheck.Check("broker.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("broker.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil && !strings.HasPrefix(sum.Listen, "127.0.0.1:") && !strings.HasPrefix(sum.Listen, "[::1]:") {
		t.Errorf("listen %s without tls: plain HTTP reachable from other hosts, around the TLS proxy", sum.Listen)
	}
}
