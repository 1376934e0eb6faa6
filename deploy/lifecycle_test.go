package deploy

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/brokerhq/broker/internal/config"
)

// The pod's grace period, less its preStop sleep, outlasts broker's longest graceful stop
// (config.HTTP.StopBound), whatever that is set to: otherwise the kubelet
// SIGKILLs broker while in-flight requests are still finishing or before the audit sinks get
// the end of the chain.
func TestChartGracePeriodCoversDrain(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]any
	}{
		{"defaults", nil},
		{"shutdown_timeout 60s", map[string]any{"http": map[string]any{"shutdown_timeout": "60s"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string]any{"secrets": map[string]any{"kek": testKEK}}
			if tc.cfg != nil {
				vals["config"] = tc.cfg
			}
			files, err := renderChart(t, vals)
			if err != nil {
				t.Fatal(err)
			}
			r := decodeAll(t, files)
			pod := r.deployment.Spec.Template.Spec
			_, hostPath := runInit(t, pod, r.configMap, r.secret.Data)
			cfg, err := config.Load(hostPath(pod.Containers[0].Args[1]))
			if err != nil {
				t.Fatal(err)
			}
			grace := int64(30) // Kubernetes' default
			if pod.TerminationGracePeriodSeconds != nil {
				grace = *pod.TerminationGracePeriodSeconds
			}
			// The grace period runs from the preStop hook on; SIGTERM comes after its sleep.
			var preStop time.Duration
			if l := pod.Containers[0].Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
				preStop = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
			}
			bound := cfg.HTTP.StopBound()
			if time.Duration(grace)*time.Second-preStop <= bound {
				t.Errorf("terminationGracePeriodSeconds %d (set: %v) less the preStop sleep %s <= %s, the longest stop with http.shutdown_timeout %s: SIGKILL can cut the stop short",
					grace, pod.TerminationGracePeriodSeconds != nil, preStop, bound, cfg.HTTP.ShutdownTimeout)
			}
		})
	}
}

// ProtectSystem=strict makes /var/log read-only; the README's audit file sink example
// (/var/log/broker/audit.jsonl) is writable through LogsDirectory.
func TestSystemdAuditFileSinkWritable(t *testing.T) {
	d := unitDirectives(t, "systemd/broker.service")
	writable := append(append([]string{}, d["ReadWritePaths"]...), d["LogsDirectory"]...)
	ok := false
	for _, w := range writable {
		for _, f := range strings.Fields(w) {
			f = strings.TrimPrefix(f, "-")
			if f == "broker" || f == "/var/log/broker" || f == "/var/log" {
				ok = true
			}
		}
	}
	if !ok {
		t.Errorf("ProtectSystem=%q and no LogsDirectory=/ReadWritePaths= for /var/log/broker (README audit.sinks file path): %v",
			d["ProtectSystem"], writable)
	}
}

// When Redis is unreachable /readyz fails on every replica at once, and the main Service has no
// endpoint left; discovery and the JWKS, served from memory, stay reachable through the public
// Service, which selects every pod, ready or not.
func TestChartJWKSSurvivesStoreOutage(t *testing.T) {
	files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}})
	if err != nil {
		t.Fatal(err)
	}
	r := decodeAll(t, files)
	pub := r.publicService
	pod := r.deployment.Spec.Template
	if pub == nil || !pub.Spec.PublishNotReadyAddresses || len(pub.Spec.Selector) == 0 ||
		!labels.SelectorFromSet(pub.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Fatalf("no Service selects broker's pods whether ready or not: %+v", pub)
	}
	if ps := pub.Spec.Ports; len(ps) != 1 || ps[0].TargetPort != intstr.FromString("http") {
		t.Errorf("the public Service's ports %+v, want broker's http port", ps)
	}
}

// systemd hands /var/lib/private/broker's content to the service's user only while the
// directory itself is not yet the user's: the unit does not promise a chown at every start (which
// broker's owner check on private files would then contradict) unless it runs one.
func TestSystemdPrivateFileHandover(t *testing.T) {
	unit, err := os.ReadFile("systemd/broker.service")
	if err != nil {
		t.Fatal(err)
	}
	d := unitDirectives(t, "systemd/broker.service")
	chowns := false
	for _, e := range d["ExecStartPre"] {
		chowns = chowns || strings.Contains(e, "chown")
	}
	if strings.Contains(strings.ReplaceAll(string(unit), "\n# ", " "), "hands the directory's content to the service's user at every start") && !chowns {
		t.Error("the unit promises a chown of /var/lib/private/broker at every start; systemd skips it once the top directory is owned by the dynamic uid")
	}
}

// The chart's defaults install on every Kubernetes its Chart.yaml kubeVersion accepts (what
// helm install checks): the preStop sleep of preStopSleepSeconds (PodLifecycleSleepAction) is
// on by default only from 1.30, and before it the API server drops the field and refuses the
// Deployment ("must specify a handler type"). So a version the chart accepts that renders it
// is 1.30 or later.
func TestChartKubeVersionCoversPreStopSleep(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for minor := 20; minor <= 36; minor++ {
		kube := fmt.Sprintf("1.%d.0", minor)
		if !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, "v"+kube) {
			continue
		}
		accepted++
		files, err := renderChartAt(t, kube, map[string]any{"secrets": map[string]any{"kek": testKEK}})
		if err != nil {
			t.Fatalf("render on Kubernetes %s: %v", kube, err)
		}
		r := decodeAll(t, files)
		if lc := r.deployment.Spec.Template.Spec.Containers[0].Lifecycle; lc != nil && lc.PreStop != nil && lc.PreStop.Sleep != nil && minor < 30 {
			t.Errorf("Chart.yaml kubeVersion %q accepts Kubernetes %s, but the default Deployment has a preStop sleep, which needs 1.30: helm install of the defaults fails there",
				ch.Metadata.KubeVersion, kube)
		}
	}
	if accepted == 0 {
		t.Errorf("Chart.yaml kubeVersion %q accepts no Kubernetes from 1.20 to 1.36", ch.Metadata.KubeVersion)
	}
}
