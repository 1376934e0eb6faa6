package deploy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/brokerhq/broker/configcheck"
	"github.com/brokerhq/broker/keys"
)

// minWebhookSecret is the shortest audit webhook secret broker accepts, in bytes.
const minWebhookSecret = 16

// testKEK is a key encryption key of the right form (base64 of 32 bytes); tests only.
var testKEK = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// TestChartDefaults renders the chart with values.yaml and only the KEK added, decodes every
// object strictly, checks the Deployment, its probes, ports, security context, the objects
// around it, and that broker accepts the configuration the pod assembles, with its private
// files in the form broker requires.
func TestChartDefaults(t *testing.T) {
	files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := decodeAll(t, files)
	want := []string{"ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Secret", "Service", "Service", "ServiceAccount"}
	if !slices.Equal(r.kinds, want) {
		t.Fatalf("rendered %v, want %v", r.kinds, want)
	}
	checkDeployment(t, r)
	checkAround(t, r)
	sum := checkAssembledConfig(t, r, r.secret.Data)
	if sum.Issuer != "https://broker.example.com" {
		t.Errorf("issuer %q", sum.Issuer)
	}
}

// checkDeployment checks the Deployment of any rendering.
func checkDeployment(t *testing.T, r rendered) {
	t.Helper()
	d := r.deployment
	if d == nil {
		t.Fatal("no Deployment")
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	sel, err := metav1LabelSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the Deployment's selector %v does not match its pods' labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
	}
	pod := d.Spec.Template.Spec
	psc := pod.SecurityContext
	switch {
	case psc == nil:
		t.Fatal("no pod security context")
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Error("pod: runAsNonRoot is not true")
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Error("pod: runAsUser is unset or root")
	case psc.FSGroup == nil:
		t.Error("pod: no fsGroup (the init container could not read the Secret's root-owned files)")
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("pod: seccompProfile is not RuntimeDefault")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod: the service account token is mounted; broker does not call the Kubernetes API")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s: no security context", c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s: allowPrivilegeEscalation is not false", c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s: the root filesystem is writable", c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s: capabilities %v, want all dropped and none added", c.Name, sc.Capabilities)
		}
		if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no memory request or limit", c.Name)
		}
		for _, m := range c.VolumeMounts {
			podVolume(t, pod, m.Name) // every mount names a declared volume
		}
	}
	broker := pod.Containers[0]
	if len(broker.Ports) != 1 || broker.Ports[0].Name != "http" || broker.Ports[0].ContainerPort != 8080 {
		t.Errorf("broker ports %v, want http 8080", broker.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", broker.ReadinessProbe, "/readyz"}, {"liveness", broker.LivenessProbe, "/healthz"}, {"startup", broker.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe: %s on %s, want %s on the http port", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}
	if s := broker.StartupProbe; s != nil && s.PeriodSeconds*s.FailureThreshold < 30 {
		t.Errorf("the startup probe gives broker %ds to start (it loads keys from Redis)", s.PeriodSeconds*s.FailureThreshold)
	}
	// Only the init container sees the Secret's group-readable files; broker reads its copies.
	runDir := findEnv(t, pod.InitContainers[0], "RUN_DIR")
	var runMounted bool
	for _, m := range broker.VolumeMounts {
		v := podVolume(t, pod, m.Name)
		if v.Secret != nil || v.ConfigMap != nil {
			t.Errorf("broker mounts %s (%s) itself; it reads the copies the init container made", m.Name, m.MountPath)
		}
		if m.MountPath != runDir {
			continue
		}
		runMounted = true
		if v.EmptyDir == nil || !m.ReadOnly || v.EmptyDir.Medium != corev1.StorageMediumMemory {
			t.Errorf("the run volume %s: read-only %v, %+v; want read-only in broker and a memory-backed emptyDir", m.Name, m.ReadOnly, v.VolumeSource)
		}
	}
	if !runMounted {
		t.Errorf("broker does not mount the run volume at %s, where the init container leaves its files", runDir)
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topology spread constraints")
	}
	for _, c := range pod.TopologySpreadConstraints {
		sel, err := metav1LabelSelector(c.LabelSelector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("topology spread over %s selects other pods than broker's", c.TopologyKey)
		}
	}
}

// checkAround checks the Service, PDB, NetworkPolicy and ServiceAccount against the pods.
func checkAround(t *testing.T, r rendered) {
	t.Helper()
	pod := r.deployment.Spec.Template
	if r.service == nil || !labels.SelectorFromSet(r.service.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(r.service.Spec.Selector) == 0 {
		t.Fatalf("the Service does not select broker's pods")
	}
	if ps := r.service.Spec.Ports; len(ps) != 1 || ps[0].TargetPort != intstr.FromString("http") || ps[0].Name != "http" {
		t.Errorf("Service ports %v, want http to the container's http port", ps)
	}
	if r.pdb == nil || r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Fatalf("PodDisruptionBudget %v, want maxUnavailable 1", r.pdb)
	}
	if sel, err := metav1LabelSelector(r.pdb.Spec.Selector); err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Error("the PodDisruptionBudget does not select broker's pods")
	}
	np := r.networkPolicy
	if np == nil {
		t.Fatal("no NetworkPolicy")
	}
	if sel, err := metav1LabelSelector(&np.Spec.PodSelector); err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Error("the NetworkPolicy does not select broker's pods")
	}
	if len(np.Spec.PolicyTypes) != 2 || len(np.Spec.Ingress) == 0 || len(np.Spec.Egress) == 0 {
		t.Errorf("NetworkPolicy types %v: want ingress and egress both restricted", np.Spec.PolicyTypes)
	}
	var redis bool
	for _, e := range np.Spec.Egress {
		for _, p := range e.Ports {
			redis = redis || p.Port != nil && p.Port.IntValue() == 6379
		}
	}
	if !redis {
		t.Error("the NetworkPolicy lets broker reach no Redis port")
	}
	if r.serviceAccount == nil || pod.Spec.ServiceAccountName != r.serviceAccount.Name {
		t.Error("the pods run under another service account than the chart's")
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil && (r.configMap == nil || v.ConfigMap.Name != r.configMap.Name):
			t.Errorf("volume %s names ConfigMap %s, which is not rendered", v.Name, v.ConfigMap.Name)
		case v.Secret != nil && r.secret != nil && v.Secret.SecretName != r.secret.Name:
			t.Errorf("volume %s names Secret %s, not the rendered %s", v.Name, v.Secret.SecretName, r.secret.Name)
		}
	}
}

// checkAssembledConfig runs the init container on the rendered ConfigMap and secretData, checks
// broker accepts the configuration broker's container is pointed at as broker serve loads it
// (configcheck.CheckFile: the file, the directory it lies in, its content), and that every
// private file it names is one the init container made in the form broker requires (mode 0600,
// owned by the running user, checked by broker's own keys.ReadPrivateFile).
func checkAssembledConfig(t *testing.T, r rendered, secretData map[string][]byte) configcheck.Summary {
	t.Helper()
	pod := r.deployment.Spec.Template.Spec
	_, hostPath := runInit(t, pod, r.configMap, secretData)
	broker := pod.Containers[0]
	// The broker container mounts the run volume read-only: nobody in it may write the volume,
	// whatever its modes, which broker tells from the mount (statfs) when it checks who could
	// replace its configuration. A directory on the host running this test is on no such mount,
	// so write is taken from group and others here, as the read-only mount takes it in the pod.
	for _, m := range broker.VolumeMounts {
		if !m.ReadOnly || podVolume(t, pod, m.Name).EmptyDir == nil {
			continue
		}
		hp := hostPath(m.MountPath)
		fi, err := os.Stat(hp)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(hp, fi.Mode()&^0o022&(os.ModePerm|os.ModeSticky|os.ModeSetgid)); err != nil {
			t.Fatal(err)
		}
	}
	if len(broker.Args) != 2 || broker.Args[0] != "--config" {
		t.Fatalf("broker args %q, want --config FILE", broker.Args)
	}
	configPath := broker.Args[1]
	onRunVolume := func(p string) bool {
		for _, m := range broker.VolumeMounts {
			if strings.HasPrefix(p, m.MountPath+"/") {
				return true
			}
		}
		return false
	}
	if !onRunVolume(configPath) {
		t.Fatalf("--config %s is on no volume of the broker container", configPath)
	}
	// As broker serve loads it: the rules on the file and its directory too.
	sum, err := configcheck.CheckFile(hostPath(configPath))
	if err != nil {
		data, _ := os.ReadFile(hostPath(configPath))
		t.Fatalf("broker refuses the configuration the chart assembles: %v\n%s", err, data)
	}
	if !sum.SharedStore || sum.KeyBackend != "redis" {
		t.Errorf("shared store %v, key backend %q: three replicas need store.redis and the redis key backend", sum.SharedStore, sum.KeyBackend)
	}
	if sum.Listen != "0.0.0.0:8080" {
		t.Errorf("broker listens on %s, not the container port 8080 on every interface", sum.Listen)
	}
	if len(sum.PrivateFiles) == 0 {
		t.Error("the configuration names no private file (the KEK)")
	}
	for _, p := range sum.PrivateFiles {
		if !onRunVolume(p) {
			t.Errorf("private file %s is on no volume of the broker container", p)
			continue
		}
		content, err := keys.ReadPrivateFile(hostPath(p))
		if err != nil {
			t.Errorf("broker would refuse %s as the init container leaves it: %v", p, err)
		}
		if filepath.Base(p) == "kek" {
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(content))); err != nil || len(raw) != 32 {
				t.Errorf("the KEK file is not the base64 of 32 bytes")
			}
		}
	}
	for _, s := range sum.AuditSinks {
		if s.Kind == "file" && !onWritableVolume(broker, s.Target) {
			t.Errorf("file sink %s: %s is on no writable volume of the broker container (its root is read-only)", s.Name, s.Target)
		}
		if s.SecretFile == "" {
			continue
		}
		if content, err := keys.ReadPrivateFile(hostPath(s.SecretFile)); err == nil && len(strings.TrimSpace(string(content))) < minWebhookSecret {
			t.Errorf("sink %s: the webhook secret holds %d bytes; broker refuses fewer than %d", s.Name, len(strings.TrimSpace(string(content))), minWebhookSecret)
		}
	}
	return sum
}

// onWritableVolume reports whether p lies on a volume c mounts writable.
func onWritableVolume(c corev1.Container, p string) bool {
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly && strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

// TestChartVariations renders the chart with an existing Secret, with API keys and trusted
// proxies, and with values the chart or broker must refuse.
func TestChartVariations(t *testing.T) {
	t.Run("existing secret with api keys", func(t *testing.T) {
		files, err := renderChart(t, map[string]any{"existingSecret": "broker-prod"})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		r := decodeAll(t, files)
		if r.secret != nil {
			t.Error("with existingSecret the chart still renders a Secret")
		}
		var names []string
		for _, v := range r.deployment.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				names = append(names, v.Secret.SecretName)
			}
		}
		if !slices.Equal(names, []string{"broker-prod"}) {
			t.Errorf("Secret volumes name %v, want broker-prod", names)
		}
		if _, ok := r.deployment.Spec.Template.Annotations["checksum/secret"]; ok {
			t.Error("a checksum of a Secret the chart does not render")
		}
		checkDeployment(t, r)
		// The Secret as its owner would write it, per values.yaml.
		checkAssembledConfig(t, r, map[string][]byte{
			"config.yaml": []byte("store:\n  redis:\n    url: rediss://:pw@redis.prod:6380/1\napi_keys:\n  - id: ci\n" +
				"    secret_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n    bindings: [{role: orchestrator, space: root}]\n" +
				"roles:\n  - {id: orchestrator, actions: [run:create, run:read, run:update]}\n"),
			"kek":                  []byte(testKEK + "\n"),
			"audit-webhook-secret": []byte("hmac-secret"),
		})
	})
	t.Run("api keys, roles and trusted proxies", func(t *testing.T) {
		files, err := renderChart(t, map[string]any{
			"secrets":        map[string]any{"kek": testKEK, "auditWebhookSecret": "s3cret"},
			"trustedProxies": []any{"10.0.0.0/8"},
			"networkPolicy": map[string]any{"ingressFrom": []any{map[string]any{
				"namespaceSelector": map[string]any{"matchLabels": map[string]any{
					"kubernetes.io/metadata.name": "ingress-nginx"}}}}},
			"apiKeys": []any{map[string]any{"id": "ci", "secret_sha256": strings.Repeat("ab", 32),
				"bindings": []any{map[string]any{"role": "orchestrator", "space": "root"}}}},
			"config": map[string]any{
				"roles":  []any{map[string]any{"id": "orchestrator", "actions": []any{"run:create", "run:read"}}},
				"tokens": map[string]any{"ttl": "30m"},
				"http":   map[string]any{"shutdown_timeout": "20s"},
			},
		})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		r := decodeAll(t, files)
		if strings.Contains(r.configMap.Data["broker.yaml"], "secret_sha256") || strings.Contains(r.configMap.Data["broker.yaml"], "rediss://") {
			t.Errorf("the ConfigMap holds what belongs in the Secret:\n%s", r.configMap.Data["broker.yaml"])
		}
		sum := checkAssembledConfig(t, r, r.secret.Data)
		if !slices.Equal(sum.TrustedProxies, []string{"10.0.0.0/8"}) {
			t.Errorf("trusted proxies %v", sum.TrustedProxies)
		}
	})
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"no kek", map[string]any{}, "secrets.kek is required"},
		{"store under config", map[string]any{"secrets": map[string]any{"kek": testKEK}, "config": map[string]any{"store": map[string]any{}}}, "config.store is set by the chart"},
		{"no redis", map[string]any{"secrets": map[string]any{"kek": testKEK}, "redis": map[string]any{"url": ""}}, "redis.url is required"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if _, err := renderChart(t, tc.vals); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render = %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
	t.Run("broker refuses plain redis off loopback", func(t *testing.T) {
		files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}, "redis": map[string]any{"url": "redis://redis:6379/0"}})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		r := decodeAll(t, files)
		_, hostPath := runInit(t, r.deployment.Spec.Template.Spec, r.configMap, r.secret.Data)
		data, err := os.ReadFile(hostPath(r.deployment.Spec.Template.Spec.Containers[0].Args[1]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := configcheck.Check("broker.yaml", data); err == nil || !strings.Contains(err.Error(), "plain text") {
			t.Errorf("configcheck = %v, want broker's refusal of plain redis://", err)
		}
	})
}

// metav1LabelSelector converts an API label selector; an empty one is an error here, since it
// would select every pod.
func metav1LabelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil || len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		return nil, errors.New("empty label selector")
	}
	return metav1.LabelSelectorAsSelector(s)
}

// With serviceMonitor.enabled, the ServiceMonitor selects exactly one of the chart's Services,
// both of which select every broker pod: otherwise Prometheus scrapes each pod once per Service
// and every sum() over broker's counters counts each event twice. It is the public Service when
// rendered (it keeps the pods that are not ready, so a Redis outage's metrics are scraped), the
// main one otherwise, and it scrapes /metrics on that Service's http port.
func TestChartServiceMonitorScrapesEachPodOnce(t *testing.T) {
	for _, public := range []bool{true, false} {
		t.Run(fmt.Sprintf("publicService.enabled %v", public), func(t *testing.T) {
			files, err := renderChart(t, map[string]any{
				"secrets":        map[string]any{"kek": testKEK},
				"serviceMonitor": map[string]any{"enabled": true},
				"publicService":  map[string]any{"enabled": public},
			})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decodeAll(t, files)
			sm := r.serviceMonitor
			if sm == nil {
				t.Fatal("serviceMonitor.enabled rendered no ServiceMonitor")
			}
			sel, err := metav1LabelSelector(&sm.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			var selected []*corev1.Service
			for _, s := range []*corev1.Service{r.service, r.publicService} {
				if s != nil && sel.Matches(labels.Set(s.Labels)) {
					selected = append(selected, s)
				}
			}
			want := r.service
			if public {
				want = r.publicService
			}
			if len(selected) != 1 || selected[0] != want {
				var names []string
				for _, s := range selected {
					names = append(names, s.Name)
				}
				t.Fatalf("the ServiceMonitor selects Services %v, want only %s: each pod is scraped once per Service selected", names, want.Name)
			}
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != want.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor endpoints %+v, want /metrics on the Service's http port", sm.Spec.Endpoints)
			}
		})
	}
}

// The chart sets broker.yaml's keys itself (the redis backend under the Secret's KEK, from the
// chart's keys.algorithm and keys.rotation), so it refuses config.keys as it refuses
// config.store, config.api_keys, config.issuer and config.listen, naming the values to use,
// rather than replacing the operator's setting (an ES256 algorithm, a file backend) in silence.
func TestChartConfigKeysRefused(t *testing.T) {
	for _, keys := range []map[string]any{{"algorithm": "ES256"}, {"backend": "file", "dir": "/var/lib/broker/keys"}} {
		_, err := renderChart(t, map[string]any{
			"secrets": map[string]any{"kek": testKEK},
			"config":  map[string]any{"keys": keys},
		})
		if err == nil || !strings.Contains(err.Error(), "config.keys is set by the chart") || !strings.Contains(err.Error(), "keys.algorithm") {
			t.Errorf("config.keys %v: render = %v, want a refusal pointing to the chart's keys.algorithm", keys, err)
		}
	}
	// The chart's own values still choose the algorithm.
	files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}, "keys": map[string]any{"algorithm": "ES256"}})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := decodeAll(t, files)
	if sum := checkAssembledConfig(t, r, r.secret.Data); sum.KeyBackend != "redis" {
		t.Errorf("key backend %q", sum.KeyBackend)
	}
	var cfg struct {
		Keys struct{ Algorithm string }
	}
	if err := sigsyaml.Unmarshal([]byte(r.configMap.Data["broker.yaml"]), &cfg); err != nil || cfg.Keys.Algorithm != "ES256" {
		t.Errorf("keys.algorithm ES256 rendered as %q (%v)", cfg.Keys.Algorithm, err)
	}
}

// The NetworkPolicy lets broker reach the Redis it is configured for: the port of redis.url
// (6379 when it names none), or networkPolicy.redisPort when set (an existingSecret's Redis,
// whose URL the chart does not see). Otherwise broker cannot load its catalog and every pod
// crash-loops.
func TestChartNetworkPolicyRedisPort(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals map[string]any
		want int
	}{
		{"defaults", map[string]any{}, 6379},
		{"url with port", map[string]any{"redis": map[string]any{"url": "rediss://:pw@redis.prod:6380/1"}}, 6380},
		{"url without port", map[string]any{"redis": map[string]any{"url": "rediss://redis.prod/1"}}, 6379},
		{"ipv6 url", map[string]any{"redis": map[string]any{"url": "rediss://[fd00::7]:6390/0"}}, 6390},
		// A password holding '/' (base64) or '@': never parsed as a URL, whose error would quote it.
		{"password with '/' and '@'", map[string]any{"redis": map[string]any{"url": "rediss://:S3cret/x@y@redis.prod:6380/0"}}, 6380},
		{"redisPort", map[string]any{"existingSecret": "broker-prod", "networkPolicy": map[string]any{"redisPort": 6380}}, 6380},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vals["secrets"] = map[string]any{"kek": testKEK}
			files, err := renderChart(t, tc.vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			np := decodeAll(t, files).networkPolicy
			var ports []int
			for _, e := range np.Spec.Egress {
				for _, p := range e.Ports {
					if p.Port != nil && p.Port.IntValue() != 53 && p.Port.IntValue() != 443 {
						ports = append(ports, p.Port.IntValue())
					}
				}
			}
			if !slices.Equal(ports, []int{tc.want}) {
				t.Errorf("the NetworkPolicy opens ports %v besides DNS and HTTPS, want Redis's %d only", ports, tc.want)
			}
		})
	}
}

// extraEnv reaches broker's container and serviceAccount.annotations the pods' ServiceAccount:
// the sources of broker's own AWS credentials for assume-role (the SDK's default chain: AWS_*
// variables, IRSA's role-arn annotation) and a proxy or CA bundle (HTTPS_PROXY, SSL_CERT_FILE).
// Without them, neither is set.
func TestChartExtraEnvAndServiceAccountAnnotations(t *testing.T) {
	files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := decodeAll(t, files)
	if env := r.deployment.Spec.Template.Spec.Containers[0].Env; len(env) != 0 {
		t.Errorf("broker's environment by default: %v", env)
	}
	if a := r.serviceAccount.Annotations; len(a) != 0 {
		t.Errorf("the ServiceAccount's annotations by default: %v", a)
	}

	const role = "arn:aws:iam::123456789012:role/broker"
	files, err = renderChart(t, map[string]any{
		"secrets":        map[string]any{"kek": testKEK},
		"serviceAccount": map[string]any{"annotations": map[string]any{"eks.amazonaws.com/role-arn": role}},
		"extraEnv": []any{
			map[string]any{"name": "HTTPS_PROXY", "value": "http://proxy.infra:3128"},
			map[string]any{"name": "AWS_ACCESS_KEY_ID", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "broker-aws", "key": "id"}}},
		},
		"config": map[string]any{
			"spaces":       []any{map[string]any{"id": "root"}},
			"integrations": []any{map[string]any{"id": "aws-ar", "space": "root", "aws": map[string]any{"mode": "assume-role", "role_arn": "arn:aws:iam::123456789012:role/target"}}},
		},
	})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r = decodeAll(t, files)
	checkDeployment(t, r)
	checkAssembledConfig(t, r, r.secret.Data)
	env := r.deployment.Spec.Template.Spec.Containers[0].Env
	if len(env) != 2 || env[0].Name != "HTTPS_PROXY" || env[0].Value != "http://proxy.infra:3128" ||
		env[1].Name != "AWS_ACCESS_KEY_ID" || env[1].ValueFrom == nil || env[1].ValueFrom.SecretKeyRef == nil || env[1].ValueFrom.SecretKeyRef.Name != "broker-aws" {
		t.Errorf("broker's environment %+v, want extraEnv's", env)
	}
	if got := r.serviceAccount.Annotations["eks.amazonaws.com/role-arn"]; got != role {
		t.Errorf("the ServiceAccount's role-arn annotation %q, want %q", got, role)
	}
	if r.deployment.Spec.Template.Spec.ServiceAccountName != r.serviceAccount.Name {
		t.Error("the pods run under another service account than the annotated one")
	}
}
