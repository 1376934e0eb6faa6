package deploy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// broker with config.tls speaks only HTTPS on its port, so the chart either refuses config.tls
// or sends its startup, liveness and readiness probes over HTTPS. The chart copies an
// existingSecret's every key (tls.crt, tls.key) to /run/broker as broker's own 0600 files, as
// broker demands of a TLS key, so end-to-end TLS looks supported; with plain-HTTP probes every
// healthy replica would fail its startup probe and be restarted forever.
func TestChartTLSProbesSpeakHTTPS(t *testing.T) {
	files, err := renderChart(t, map[string]any{
		"existingSecret": "broker-prod",
		"config": map[string]any{"tls": map[string]any{
			"cert_file": "/run/broker/tls.crt", "key_file": "/run/broker/tls.key",
		}},
	})
	if err != nil {
		if !strings.Contains(err.Error(), "tls") {
			t.Fatalf("render refused, but not for config.tls: %v", err)
		}
		return
	}
	c := decodeAll(t, files).deployment.Spec.Template.Spec.Containers[0]
	for name, p := range map[string]*corev1.Probe{
		"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe,
	} {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		if p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("%s probe scheme %q on a port that speaks only HTTPS", name, p.HTTPGet.Scheme)
		}
	}
}
