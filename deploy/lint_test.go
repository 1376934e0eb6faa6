package deploy

import (
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestChartLint runs Helm's own linter (`helm lint`: chart metadata, template syntax, YAML
// validity, API versions deprecated in the given Kubernetes) on the chart, against the oldest
// Kubernetes of Chart.yaml's kubeVersion and a current one: no error and no warning (Helm's
// informational notes, such as a missing icon, are allowed).
func TestChartLint(t *testing.T) {
	for _, kube := range []string{"1.30.0", "1.34.0"} {
		v := &chartutil.KubeVersion{Version: "v" + kube, Major: "1", Minor: kube[2:4]}
		l := lint.AllWithKubeVersion(chartDir, map[string]any{"secrets": map[string]any{"kek": testKEK}}, "broker", v)
		for _, m := range l.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("helm lint (Kubernetes %s): %s", kube, m.Error())
			} else {
				t.Logf("helm lint note: %s", m.Error())
			}
		}
	}
}
