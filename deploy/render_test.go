package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// chartDir is the Helm chart under test.
const chartDir = "helm/broker"

// rendered are the objects of one rendering of the chart, decoded strictly into their API types.
type rendered struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	// publicService is the Service of discovery and the JWKS, which selects pods not ready too.
	publicService  *corev1.Service
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	networkPolicy  *networkingv1.NetworkPolicy
	serviceMonitor *monitoringv1.ServiceMonitor
	// kinds lists every object's kind, sorted.
	kinds []string
}

// kindTypes maps apiVersion and kind to a new value of the API type that decodes it.
var kindTypes = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

// renderChart renders the chart as `helm install broker --namespace broker` would with vals
// over values.yaml, and returns the rendered files by template name.
func renderChart(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	return renderChartWith(t, chartutil.DefaultCapabilities, vals)
}

// renderChartAt renders the chart as renderChart does, against a cluster of Kubernetes kube
// ("1.30.0").
func renderChartAt(t *testing.T, kube string, vals map[string]any) (map[string]string, error) {
	t.Helper()
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v" + kube, Major: "1", Minor: strings.Split(kube, ".")[1]}
	return renderChartWith(t, caps, vals)
}

// renderChartWith renders the chart as renderChart does, against the cluster of caps.
func renderChartWith(t *testing.T, caps *chartutil.Capabilities, vals map[string]any) (map[string]string, error) {
	t.Helper()
	return renderRelease(t, release{name: "broker", caps: caps}, vals)
}

// release is what `helm install NAME` renders the chart for: the release name and the
// cluster's capabilities.
type release struct {
	name string
	caps *chartutil.Capabilities
}

// renderRelease renders the chart as `helm install rel.name --namespace broker` would, against
// the cluster of rel.caps, with vals over values.yaml.
func renderRelease(t *testing.T, rel release, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("chart metadata: %v", err)
	}
	opts := chartutil.ReleaseOptions{Name: rel.name, Namespace: "broker", Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, rel.caps)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	return engine.Render(ch, rv)
}

// decodeAll decodes every object of a rendering strictly: an unknown field, a wrong type or
// an unknown kind fails the test.
func decodeAll(t *testing.T, files map[string]string) rendered {
	t.Helper()
	var r rendered
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := sigsyaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s #%d: %v\n%s", name, i, err, doc)
			}
			newObj, ok := kindTypes[tm.APIVersion+"/"+tm.Kind]
			if !ok {
				t.Fatalf("%s #%d: unexpected object %s %s", name, i, tm.APIVersion, tm.Kind)
			}
			obj := newObj()
			if err := sigsyaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s #%d (%s): strict decoding: %v\n%s", name, i, tm.Kind, err, doc)
			}
			r.kinds = append(r.kinds, tm.Kind)
			switch o := obj.(type) {
			case *appsv1.Deployment:
				r.deployment = o
			case *corev1.Service:
				if strings.HasSuffix(o.Name, "-public") {
					r.publicService = o
				} else {
					r.service = o
				}
			case *corev1.ConfigMap:
				r.configMap = o
			case *corev1.Secret:
				r.secret = o
			case *corev1.ServiceAccount:
				r.serviceAccount = o
			case *policyv1.PodDisruptionBudget:
				r.pdb = o
			case *networkingv1.NetworkPolicy:
				r.networkPolicy = o
			case *monitoringv1.ServiceMonitor:
				r.serviceMonitor = o
			}
		}
	}
	sort.Strings(r.kinds)
	return r
}

// runInit runs the init container's script with /bin/sh, its mounts moved under a temporary
// directory and filled with the ConfigMap's and the Secret's data, an emptyDir volume's root
// given the mode the kubelet leaves it with (emptyDirMode), and returns the directory the
// script filled (the broker container's view of the run volume) and the mapping of container
// paths to it.
func runInit(t *testing.T, pod corev1.PodSpec, cm *corev1.ConfigMap, secret map[string][]byte) (runDir string, hostPath func(string) string) {
	t.Helper()
	if len(pod.InitContainers) != 1 {
		t.Fatalf("%d init containers, want the one that installs the private files", len(pod.InitContainers))
	}
	init := pod.InitContainers[0]
	root := t.TempDir()
	mounts := map[string]string{} // container path -> host path
	for _, m := range init.VolumeMounts {
		dir := filepath.Join(root, m.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mounts[m.MountPath] = dir
		vol := podVolume(t, pod, m.Name)
		switch {
		case vol.ConfigMap != nil:
			for k, v := range cm.Data {
				writeFile(t, filepath.Join(dir, k), []byte(v), 0o644)
			}
		case vol.Secret != nil:
			for k, v := range secret {
				// What a Secret volume holds once fsGroup is set: root's files, group-readable.
				writeFile(t, filepath.Join(dir, k), v, os.FileMode(*vol.Secret.DefaultMode))
			}
		case vol.EmptyDir != nil:
			if err := os.Chmod(dir, emptyDirMode(vol.EmptyDir, pod.SecurityContext)); err != nil {
				t.Fatal(err)
			}
		}
	}
	hostPath = func(p string) string {
		for cp, hp := range mounts {
			if p == cp || strings.HasPrefix(p, cp+"/") {
				return hp + strings.TrimPrefix(p, cp)
			}
		}
		t.Fatalf("%s is on no volume of the init container", p)
		return ""
	}
	env := os.Environ()
	for _, e := range init.Env {
		env = append(env, e.Name+"="+hostPath(e.Value))
	}
	if len(init.Command) != 2 || init.Command[0] != "/bin/sh" || init.Command[1] != "-c" || len(init.Args) != 1 {
		t.Fatalf("init container runs %q %q, want /bin/sh -c SCRIPT", init.Command, init.Args)
	}
	cmd := exec.Command("/bin/sh", "-c", init.Args[0])
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("init script: %v\n%s", err, out.String())
	}
	return hostPath(findEnv(t, init, "RUN_DIR")), hostPath
}

// emptyDirMode is the mode of an emptyDir volume's root as the kubelet leaves it (pkg/volume/
// emptydir and volume_linux.go): on the node's disk a directory of mode 0777; with medium Memory
// a tmpfs mounted without a mode option, whose root has the kernel's default mode 1777 (sticky);
// with the pod's fsGroup set, the kubelet adds the setgid bit and keeps the others.
func emptyDirMode(v *corev1.EmptyDirVolumeSource, psc *corev1.PodSecurityContext) os.FileMode {
	mode := os.FileMode(0o777)
	if v.Medium == corev1.StorageMediumMemory {
		mode |= os.ModeSticky
	}
	if psc != nil && psc.FSGroup != nil {
		mode |= os.ModeSetgid
	}
	return mode
}

func findEnv(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	t.Fatalf("container %s has no %s", c.Name, name)
	return ""
}

func podVolume(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("volume %q is mounted but not declared", name)
	return corev1.Volume{}
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
