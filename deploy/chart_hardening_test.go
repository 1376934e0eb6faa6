package deploy

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/brokerhq/broker/internal/config"
)

// chartValues are the chart's values with only the KEK set, plus extra laid over them.
func chartValues(extra map[string]any) map[string]any {
	v := map[string]any{"secrets": map[string]any{"kek": testKEK}}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

// renderDecoded renders the chart with vals and decodes its objects.
func renderDecoded(t *testing.T, vals map[string]any) rendered {
	t.Helper()
	files, err := renderChart(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return decodeAll(t, files)
}

// TestChartEffectiveNonRoot: every container runs non-root as Kubernetes enforces it (a container's
// runAsNonRoot overrides the pod's), and the pod's group is not root's.
// Guards against: deploy/helm/broker/templates/_helpers.tpl:98 runAsNonRoot: true -> false
// (container level)
// Guards against: deploy/helm/broker/templates/deployment.yaml:39 runAsGroup -> 0
func TestChartEffectiveNonRoot(t *testing.T) {
	pod := renderDecoded(t, chartValues(nil)).deployment.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsGroup == nil || *psc.RunAsGroup == 0 {
		t.Errorf("pod runAsGroup %v, want a non-root group", psc)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		nonRoot := psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
		if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
			nonRoot = *c.SecurityContext.RunAsNonRoot
		}
		if !nonRoot {
			t.Errorf("%s: runAsNonRoot is not in force", c.Name)
		}
		if c.SecurityContext != nil && c.SecurityContext.RunAsGroup != nil && *c.SecurityContext.RunAsGroup == 0 {
			t.Errorf("%s: runAsGroup 0", c.Name)
		}
	}
}

// TestChartImagesPinned: broker's image defaults to the chart's appVersion and takes image.tag when
// set; the init image is pinned by a tag, not latest.
// Guards against: deploy/helm/broker/templates/deployment.yaml:83 default .Chart.AppVersion ->
// default "latest"
// Guards against: deploy/helm/broker/values.yaml:17 initImage tag "1.37.0" -> latest
func TestChartImagesPinned(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"default", nil, "ghcr.io/brokerhq/broker:" + ch.Metadata.AppVersion},
		{"image.tag", map[string]any{"image": map[string]any{"tag": "9.9.9"}}, "ghcr.io/brokerhq/broker:9.9.9"},
	} {
		pod := renderDecoded(t, chartValues(tc.vals)).deployment.Spec.Template.Spec
		if got := pod.Containers[0].Image; got != tc.want {
			t.Errorf("%s: broker image %q, want %q", tc.name, got, tc.want)
		}
		for _, c := range pod.InitContainers {
			if _, tag, ok := strings.Cut(c.Image, ":"); !ok || tag == "" || tag == "latest" {
				t.Errorf("%s: init image %q not pinned by tag", tc.name, c.Image)
			}
		}
	}
}

// TestChartNetworkPolicyRules: by default ingress reaches only broker's http port and no egress
// rule is open to every port; egress keeps DNS over UDP and TCP, and HTTPS (clouds, Vault,
// webhooks; networkPolicy.egressHTTPS defaults to true).
// Guards against: deploy/helm/broker/templates/networkpolicy.yaml:20 an extra allow-all ingress
// rule "- {}"
// Guards against: deploy/helm/broker/templates/networkpolicy.yaml:27 an extra allow-all egress rule
// "- {}"
// Guards against: deploy/helm/broker/templates/networkpolicy.yaml:30 DNS over UDP dropped
// Guards against: deploy/helm/broker/values.yaml:124 egressHTTPS: true -> false
func TestChartNetworkPolicyRules(t *testing.T) {
	np := renderDecoded(t, chartValues(nil)).networkPolicy
	if np == nil {
		t.Fatal("no NetworkPolicy")
	}
	for i, in := range np.Spec.Ingress {
		if len(in.Ports) == 0 {
			t.Errorf("ingress rule %d opens every port", i)
		}
		for _, p := range in.Ports {
			if p.Port == nil || *p.Port != intstr.FromString("http") {
				t.Errorf("ingress rule %d opens %v, want only the http port", i, p.Port)
			}
		}
	}
	open := map[string]bool{}
	for i, e := range np.Spec.Egress {
		if len(e.Ports) == 0 {
			t.Errorf("egress rule %d opens every port", i)
		}
		for _, p := range e.Ports {
			if p.Port != nil && p.Protocol != nil {
				open[fmt.Sprintf("%s/%s", p.Port.String(), *p.Protocol)] = true
			}
		}
	}
	for _, want := range []string{"53/UDP", "53/TCP", "443/TCP", "6379/TCP"} {
		if !open[want] {
			t.Errorf("egress does not open %s (open: %v)", want, open)
		}
	}
}

// TestChartGracePeriodIsPreStopPlusDrain: the pod's grace period is preStopSleepSeconds plus http.shutdown_timeout
// plus 15s (values.yaml), for shutdown_timeout written in minutes too, and the default pod pauses
// in preStop before broker stops accepting connections.
// Guards against: deploy/helm/broker/templates/_helpers.tpl:112 minutes * 60 -> * 6
// Guards against: deploy/helm/broker/templates/_helpers.tpl:115 "1m30s" minutes * 60 -> * 1
// Guards against: deploy/helm/broker/templates/deployment.yaml:33 preStopSleepSeconds left out of
// the sum
// Guards against: deploy/helm/broker/templates/deployment.yaml:106 the preStop sleep not rendered
func TestChartGracePeriodIsPreStopPlusDrain(t *testing.T) {
	for _, tc := range []struct {
		timeout string
		preStop int
		drain   time.Duration
	}{
		{"", 5, 30 * time.Second},
		{"2m", 5, 2 * time.Minute},
		{"1m30s", 5, 90 * time.Second},
		{"30s", 20, 30 * time.Second},
	} {
		t.Run(fmt.Sprintf("%q preStop %d", tc.timeout, tc.preStop), func(t *testing.T) {
			vals := chartValues(map[string]any{"preStopSleepSeconds": tc.preStop})
			if tc.timeout != "" {
				vals["config"] = map[string]any{"http": map[string]any{"shutdown_timeout": tc.timeout}}
			}
			pod := renderDecoded(t, vals).deployment.Spec.Template.Spec
			want := int64(tc.preStop) + int64(tc.drain/time.Second) + 15
			got := int64(-1) // unset
			if g := pod.TerminationGracePeriodSeconds; g != nil {
				got = *g
			}
			if got != want {
				t.Errorf("terminationGracePeriodSeconds %d, want %d (preStop + drain + 15)", got, want)
			}
			lc := pod.Containers[0].Lifecycle
			if lc == nil || lc.PreStop == nil || lc.PreStop.Sleep == nil || lc.PreStop.Sleep.Seconds != int64(tc.preStop) {
				t.Errorf("preStop %+v, want a sleep of %ds", lc, tc.preStop)
			}
		})
	}
}

// TestChartRollout: a rollout never takes a replica away before its successor is up, and a change
// of the configuration or of the Secret's content changes the pod template (broker reads both only
// at start-up).
// Guards against: deploy/helm/broker/templates/deployment.yaml:15 maxUnavailable: 0 -> 3
// Guards against: deploy/helm/broker/templates/deployment.yaml:22 checksum/config dropped
// Guards against: deploy/helm/broker/templates/deployment.yaml:24 checksum/secret dropped
func TestChartRollout(t *testing.T) {
	base := renderDecoded(t, chartValues(nil)).deployment
	if ru := base.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rollingUpdate %+v, want maxUnavailable 0", ru)
	}
	otherKEK := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	for name, vals := range map[string]map[string]any{
		"kek":       {"secrets": map[string]any{"kek": otherKEK}},
		"redis.url": chartValues(map[string]any{"redis": map[string]any{"url": "rediss://other:6379/0"}}),
		"config":    chartValues(map[string]any{"config": map[string]any{"tokens": map[string]any{"ttl": "30m"}}}),
	} {
		d := renderDecoded(t, vals).deployment
		if fmt.Sprint(d.Spec.Template.Annotations) == fmt.Sprint(base.Spec.Template.Annotations) {
			t.Errorf("changing %s leaves the pod template's annotations %v unchanged: the replicas keep the old one", name, d.Spec.Template.Annotations)
		}
	}
}

// TestChartSecretsStayInTheSecret: the KEK, the webhook secret, the Redis password and the API
// keys' hashes appear in no rendered object but the Secret, neither plain nor base64-encoded, and
// the init container that copies them prints none of them (its output is the pod's log).
// Guards against: deploy/helm/broker/templates/deployment.yaml:24 checksum/secret's sha256sum ->
// b64enc
// Guards against: deploy/helm/broker/templates/deployment.yaml:65 cat "$f" > ... -> cat "$f" | tee
// ...
func TestChartSecretsStayInTheSecret(t *testing.T) {
	const pw, hash = "pw-Zq7sSecretRedis", "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff"
	secrets := []string{testKEK, testWebhookSecret, pw, hash}
	vals := chartValues(map[string]any{
		"secrets":      map[string]any{"kek": testKEK, "auditWebhookSecret": testWebhookSecret},
		"auditWebhook": map[string]any{"url": "https://siem.example.com/broker"},
		"redis":        map[string]any{"url": "rediss://:" + pw + "@redis.prod:6380/1"},
		"apiKeys": []any{map[string]any{"id": "ci", "secret_sha256": hash,
			"bindings": []any{map[string]any{"role": "orchestrator", "space": "root"}}}},
		"config": map[string]any{"roles": []any{map[string]any{"id": "orchestrator", "actions": []any{"run:create"}}}},
	})
	files, err := renderChart(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	b64 := regexp.MustCompile(`[A-Za-z0-9+/]{16,}={0,2}`)
	leaks := func(where, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret (%.6s...)", where, s)
			}
		}
		for _, m := range b64.FindAllString(text, -1) {
			raw, err := base64.StdEncoding.DecodeString(m)
			if err != nil {
				continue
			}
			for _, s := range secrets {
				if strings.Contains(string(raw), s) {
					t.Errorf("%s holds a secret (%.6s...) base64-encoded", where, s)
				}
			}
		}
	}
	for name, text := range files {
		if strings.HasSuffix(name, "/secret.yaml") {
			continue
		}
		leaks(name, text)
	}

	// The init container's output, captured to a file on the run volume.
	r := decodeAll(t, files)
	pod := *r.deployment.Spec.Template.Spec.DeepCopy()
	init := &pod.InitContainers[0]
	runDir := findEnv(t, *init, "RUN_DIR")
	init.Env = append(init.Env, corev1.EnvVar{Name: "TEST_INIT_LOG", Value: runDir + "/test-init.log"})
	init.Args = []string{"( " + init.Args[0] + "\n) >\"$TEST_INIT_LOG\" 2>&1"}
	dir, _ := runInit(t, pod, r.configMap, r.secret.Data)
	out, err := os.ReadFile(filepath.Join(dir, "test-init.log"))
	if err != nil {
		t.Fatal(err)
	}
	leaks("the init container's output", string(out))
}

// TestChartRefusesChartOwnedKeys: config.api_keys (secret hashes, which would land in the
// ConfigMap), config.issuer and config.listen are refused, not silently dropped or overridden.
// Guards against: deploy/helm/broker/templates/_helpers.tpl:43 "api_keys" left out of the refused
// keys
// Guards against: deploy/helm/broker/templates/_helpers.tpl:43 "issuer" left out of the refused
// keys
func TestChartRefusesChartOwnedKeys(t *testing.T) {
	for key, v := range map[string]any{
		"api_keys": []any{map[string]any{"id": "ci", "secret_sha256": strings.Repeat("ab", 32),
			"bindings": []any{map[string]any{"role": "admin", "space": "root"}}}},
		"issuer": "https://other.example.com",
		"listen": "0.0.0.0:9090",
	} {
		_, err := renderChart(t, chartValues(map[string]any{"config": map[string]any{key: v}}))
		if err == nil || !strings.Contains(err.Error(), "config."+key+" is set by the chart") {
			t.Errorf("config.%s: render = %v, want a refusal", key, err)
		}
	}
}

// TestChartAPIKeysReachBroker: the apiKeys value reaches the configuration broker loads (through
// the Secret), with its hash and bindings.
// Guards against: deploy/helm/broker/templates/_helpers.tpl:90 apiKeys not rendered into the
// Secret's config.yaml
func TestChartAPIKeysReachBroker(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	r := renderDecoded(t, chartValues(map[string]any{
		"apiKeys": []any{map[string]any{"id": "ci", "secret_sha256": hash,
			"bindings": []any{map[string]any{"role": "orchestrator", "space": "root"}}}},
		"config": map[string]any{"roles": []any{map[string]any{"id": "orchestrator", "actions": []any{"run:create"}}}},
	}))
	pod := r.deployment.Spec.Template.Spec
	_, hostPath := runInit(t, pod, r.configMap, r.secret.Data)
	data, err := os.ReadFile(hostPath(pod.Containers[0].Args[1]))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("broker.yaml", data)
	if err != nil {
		t.Fatalf("broker refuses the assembled configuration: %v", err)
	}
	if len(cfg.APIKeys) != 1 || cfg.APIKeys[0].ID != "ci" || cfg.APIKeys[0].SecretSHA256 != hash ||
		len(cfg.APIKeys[0].Bindings) != 1 || cfg.APIKeys[0].Bindings[0].Role != "orchestrator" {
		t.Errorf("api keys broker loads: %+v, want apiKeys' ci", cfg.APIKeys)
	}
}
