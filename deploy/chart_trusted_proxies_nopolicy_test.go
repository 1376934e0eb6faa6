package deploy

import (
	"strings"
	"testing"
)

// TestTrustedProxiesRefusedWithoutNetworkPolicy checks that the chart refuses trustedProxies
// (or config.http.trusted_proxies) with the NetworkPolicy turned off, as it does without
// networkPolicy.ingressFrom: any pod of the trusted range that reaches broker's port could
// forge X-Forwarded-For.
func TestTrustedProxiesRefusedWithoutNetworkPolicy(t *testing.T) {
	noPolicy := map[string]any{"enabled": false}
	cases := map[string]map[string]any{
		"trustedProxies": {
			"trustedProxies": []any{"10.42.0.0/16"},
			"networkPolicy":  noPolicy,
		},
		"config.http.trusted_proxies": {
			"config": map[string]any{
				"http": map[string]any{"trusted_proxies": []any{"10.42.0.0/16"}},
			},
			"networkPolicy": noPolicy,
		},
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := renderChart(t, chartValues(extra))
			if err == nil {
				r := decodeAll(t, files)
				t.Fatalf("chart rendered (NetworkPolicy %v) although broker trusts "+
					"X-Forwarded-For from 10.42.0.0/16 and no policy limits who reaches it",
					r.networkPolicy != nil)
			}
			if !strings.Contains(err.Error(), "ingressFrom") {
				t.Errorf("refused, but not naming networkPolicy.ingressFrom: %v", err)
			}
		})
	}
}
