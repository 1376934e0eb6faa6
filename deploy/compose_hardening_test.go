package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestComposeHardeningAndPersistence pins what TestCompose leaves open: no service is privileged or
// gains capabilities, every pulled image is pinned by a tag (not latest, not none), the proxy is
// published on loopback only (plain HTTP, an http issuer), and Redis's /data, which holds the key
// set encrypted under BROKER_KEK and all shared state, is a named volume declared at the top level
// (it survives `docker compose down` / up).
// Guards against: deploy/compose.yaml:24 broker-2 privileged: true
// Guards against: deploy/compose.yaml:37 cap_add: [SYS_ADMIN] on the brokers
// Guards against: deploy/compose.yaml:16 redis:7.4-alpine -> redis:latest; deploy/compose.yaml:48
// nginx:1.27-alpine -> nginx
// Guards against: deploy/compose.yaml:52 "127.0.0.1:8080:8080" -> "8080:8080"
// Guards against: deploy/compose.yaml:18 redis-data volume dropped or replaced by a bind mount
// under /tmp
func TestComposeHardeningAndPersistence(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"BROKER_KEK": testKEK})
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, s := range p.Services {
		if s.Privileged {
			t.Errorf("%s: privileged", name)
		}
		if len(s.CapAdd) > 0 {
			t.Errorf("%s: cap_add %v", name, s.CapAdd)
		}
		if s.Build != nil {
			continue // built here, tagged by compose
		}
		_, tag, ok := strings.Cut(s.Image, ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned by tag", name, s.Image)
		}
	}
	for _, port := range p.Services["proxy"].Ports {
		if port.HostIP != "127.0.0.1" {
			t.Errorf("proxy publishes %s:%s on %q, want 127.0.0.1 only", port.Published, port.Protocol, port.HostIP)
		}
	}
	var data string
	for _, v := range p.Services["redis"].Volumes {
		if v.Target == "/data" {
			if v.Type != "volume" {
				t.Errorf("redis /data is a %s mount of %q, want a named volume", v.Type, v.Source)
			}
			data = v.Source
		}
	}
	if data == "" {
		t.Fatal("redis /data is on no volume: the key set and shared state go with the container")
	}
	if _, ok := p.Volumes[data]; !ok {
		t.Errorf("redis /data on %q, not a volume declared at the top level", data)
	}
	if !slices.Contains(p.VolumeNames(), data) {
		t.Errorf("volume %q not among the project's volumes %v", data, p.VolumeNames())
	}
}
