package deploy

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/brokerhq/broker/configcheck"
)

// loadCompose loads compose.yaml as `docker compose` does (schema validation, interpolation
// from env, normalisation).
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}},
		Environment: env,
	})
}

// TestCompose: compose.yaml is valid, runs two broker replicas behind a proxy that sets
// X-Forwarded-For and is their only trusted proxy, Redis persists with appendonly and is
// reached on loopback, and broker accepts each replica's configuration.
func TestCompose(t *testing.T) {
	if _, err := loadCompose(t, map[string]string{}); err == nil || !strings.Contains(err.Error(), "BROKER_KEK") {
		t.Errorf("compose.yaml without BROKER_KEK: %v, want a refusal naming it", err)
	}
	p, err := loadCompose(t, map[string]string{"BROKER_KEK": testKEK})
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for name := range p.Services {
			if !yield(name) {
				return
			}
		}
	}); !slices.Equal(got, []string{"broker-1", "broker-2", "proxy", "redis"}) {
		t.Fatalf("services %v", got)
	}
	redis := p.Services["redis"]
	if !slices.Equal(redis.Command, types.ShellCommand{"redis-server", "--appendonly", "yes", "--bind", "127.0.0.1", "--protected-mode", "yes"}) {
		t.Errorf("redis runs %q, want appendonly yes, bound to loopback", redis.Command)
	}
	proxy := p.Services["proxy"]
	proxyAddr, err := netip.ParseAddr(proxy.Networks["edge"].Ipv4Address)
	if err != nil {
		t.Fatalf("the proxy has no fixed address on the edge network: %v", err)
	}
	subnet := netip.MustParsePrefix(p.Networks["edge"].Ipam.Config[0].Subnet)
	if !subnet.Contains(proxyAddr) {
		t.Errorf("the proxy's address %s is outside the edge network %s", proxyAddr, subnet)
	}
	alias := redis.Networks["edge"].Aliases

	var ports []string
	for _, name := range []string{"broker-1", "broker-2"} {
		s := p.Services[name]
		if s.NetworkMode != "service:redis" {
			t.Errorf("%s: network_mode %q, want service:redis (Redis is on loopback)", name, s.NetworkMode)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: read_only %v, cap_drop %v, security_opt %v", name, s.ReadOnly, s.CapDrop, s.SecurityOpt)
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("%s: not built from deploy/Dockerfile", name)
		}
		if kek := s.Environment["BROKER_KEK"]; kek == nil || *kek != testKEK {
			t.Errorf("%s: BROKER_KEK is not passed through", name)
		}
		cfgPath, listen := flagValue(t, s.Command, "--config"), flagValue(t, s.Command, "--listen")
		var source string
		for _, v := range s.Volumes {
			if v.Target == cfgPath {
				source = v.Source
				if !v.ReadOnly {
					t.Errorf("%s: the configuration is mounted writable", name)
				}
			}
		}
		if source == "" {
			t.Fatalf("%s: --config %s is not mounted", name, cfgPath)
		}
		sum := checkComposeConfig(t, source, listen, "BROKER_KEK")
		if !slices.Contains(sum.TrustedProxies, proxyAddr.String()) {
			t.Errorf("%s trusts %v as proxies, not the proxy at %s", name, sum.TrustedProxies, proxyAddr)
		}
		for _, tp := range sum.TrustedProxies {
			if pf, err := netip.ParsePrefix(tp); err == nil && pf.Bits() < 32 && pf.Contains(netip.MustParseAddr("172.28.0.1")) {
				t.Errorf("%s trusts %s, which holds the network's gateway: the host could forge X-Forwarded-For", name, tp)
			}
		}
		_, port, _ := strings.Cut(listen, ":")
		ports = append(ports, port)
	}
	if ports[0] == ports[1] {
		t.Errorf("both replicas listen on %s in one network namespace", ports[0])
	}

	var nginxConf string
	for _, v := range proxy.Volumes {
		if v.Target == "/etc/nginx/nginx.conf" {
			data, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatal(err)
			}
			nginxConf = string(data)
		}
	}
	if !regexp.MustCompile(`(?m)^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;`).MatchString(nginxConf) {
		t.Error("nginx does not set X-Forwarded-For")
	}
	var upstream []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server (\S+):(\d+)`).FindAllStringSubmatch(nginxConf, -1) {
		if !slices.Contains(alias, m[1]) {
			t.Errorf("nginx forwards to %s, which is not the brokers' network alias %v", m[1], alias)
		}
		upstream = append(upstream, m[2])
	}
	if !slices.Equal(upstream, ports) {
		t.Errorf("nginx forwards to ports %v, the replicas listen on %v", upstream, ports)
	}
}

// flagValue returns the value after flag in a command line.
func flagValue(t *testing.T, cmd []string, flag string) string {
	t.Helper()
	i := slices.Index(cmd, flag)
	if i < 0 || i+1 >= len(cmd) {
		t.Fatalf("command %q has no %s", cmd, flag)
	}
	return cmd[i+1]
}

// checkComposeConfig validates the configuration file at path as broker serve --listen listen
// reads it (the flag replaces listen), and checks it shares state in Redis with the key set
// encrypted under the key of kekEnv.
func checkComposeConfig(t *testing.T, path, listen, kekEnv string) configcheck.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	keys, _ := doc["keys"].(map[string]any)
	if r, _ := keys["redis"].(map[string]any); r["encryption_key_env"] != kekEnv {
		t.Errorf("%s: the key set is not encrypted under $%s", path, kekEnv)
	}
	doc["listen"] = listen
	if data, err = yaml.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	sum, err := configcheck.Check(filepath.Base(path), data)
	if err != nil {
		t.Fatalf("broker refuses %s: %v", path, err)
	}
	if !sum.SharedStore || sum.KeyBackend != "redis" {
		t.Errorf("%s: shared store %v, key backend %q; two replicas need both in Redis", path, sum.SharedStore, sum.KeyBackend)
	}
	return sum
}
