package deploy

import (
	"strings"
	"testing"
)

// When the chart makes broker believe X-Forwarded-For from a range of peers (trustedProxies,
// or config.http.trusted_proxies), only chosen peers may reach broker's port: otherwise any pod
// of that range connects to broker directly and names any client address, which defeats the
// per-client failed-authentication limits and falsifies the audit's client address. The chart
// refuses such values unless networkPolicy.ingressFrom names the peers.
func TestChartTrustedProxiesNeedIngressFrom(t *testing.T) {
	// The README's `helm install` command: trustedProxies set, networkPolicy left as it is.
	files, err := renderChart(t, chartValues(map[string]any{
		"trustedProxies": []any{"10.42.0.0/16"},
	}))
	if err != nil {
		if !strings.Contains(err.Error(), "ingressFrom") {
			t.Fatalf("render refused, but not for the ingress peers: %v", err)
		}
		return
	}
	np := decodeAll(t, files).networkPolicy
	if np == nil {
		t.Fatal("no NetworkPolicy although networkPolicy.enabled is the default")
	}
	for i, in := range np.Spec.Ingress {
		if len(in.From) == 0 {
			t.Errorf("ingress rule %d admits every peer while broker trusts X-Forwarded-For "+
				"from %v: any pod there can forge the client address", i, "10.42.0.0/16")
		}
	}
}

// The same refusal when the trusted proxies come from config.http.trusted_proxies.
func TestChartConfigTrustedProxiesNeedIngressFrom(t *testing.T) {
	_, err := renderChart(t, chartValues(map[string]any{
		"config": map[string]any{"http": map[string]any{"trusted_proxies": []any{"10.42.0.0/16"}}},
	}))
	if err == nil || !strings.Contains(err.Error(), "ingressFrom") {
		t.Errorf("render with config.http.trusted_proxies and no ingressFrom: %v, want a refusal "+
			"naming networkPolicy.ingressFrom", err)
	}
}
