package deploy

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/configcheck"
	"github.com/brokerhq/broker/internal/config"
)

// TestSystemdStopTimeoutCoversDrain: TimeoutStopSec outlasts broker's drain (http.shutdown_timeout
// of the example configuration, 30s by default), or systemd SIGKILLs broker while in-flight
// requests finish.
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
	if stop <= cfg.HTTP.ShutdownTimeout {
		t.Errorf("TimeoutStopSec %s <= http.shutdown_timeout %s: systemd cuts the drain short", stop, cfg.HTTP.ShutdownTimeout)
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
