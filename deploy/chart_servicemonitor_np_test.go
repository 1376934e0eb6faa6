package deploy

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// monitoringNS are the labels of the namespace Prometheus runs in.
var monitoringNS = labels.Set{"kubernetes.io/metadata.name": "monitoring"}

// TestServiceMonitorScraperPassesNetworkPolicy: with serviceMonitor.enabled, the scraper
// the ServiceMonitor drives can reach broker's http port under the chart's own NetworkPolicy,
// also when networkPolicy.ingressFrom narrows ingress to the ingress controller (what the
// README's example and trustedProxies require). Here the scraper's peers are given as
// serviceMonitor.from.
func TestServiceMonitorScraperPassesNetworkPolicy(t *testing.T) {
	monitoring := map[string]any{"namespaceSelector": map[string]any{
		"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}}
	ingress := map[string]any{"namespaceSelector": map[string]any{
		"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}}}
	r := renderDecoded(t, chartValues(map[string]any{
		"trustedProxies": []any{"10.42.0.0/16"},
		"networkPolicy":  map[string]any{"ingressFrom": []any{ingress}},
		"serviceMonitor": map[string]any{"enabled": true, "from": []any{monitoring}},
	}))
	if r.serviceMonitor == nil || r.networkPolicy == nil {
		t.Fatal("no ServiceMonitor or no NetworkPolicy rendered")
	}
	if !ingressAllows(t, r.networkPolicy, monitoringNS) {
		t.Errorf("the NetworkPolicy lets no pod of namespace monitoring reach the http port, "+
			"so the ServiceMonitor's scrapes of /metrics time out; ingress: %+v",
			r.networkPolicy.Spec.Ingress)
	}
	ingressNS := labels.Set{"kubernetes.io/metadata.name": "ingress-nginx"}
	if !ingressAllows(t, r.networkPolicy, ingressNS) {
		t.Error("the ingress controller's namespace lost its path to broker")
	}
	if ingressAllows(t, r.networkPolicy, labels.Set{"kubernetes.io/metadata.name": "x"}) {
		t.Error("a pod of any other namespace reaches broker")
	}
}

// ingressAllows reports whether any pod of a namespace labelled ns may reach the http port.
func ingressAllows(t *testing.T, np *networkingv1.NetworkPolicy, ns labels.Set) bool {
	t.Helper()
	for _, rule := range np.Spec.Ingress {
		onHTTP := len(rule.Ports) == 0
		for _, p := range rule.Ports {
			if p.Port == nil || *p.Port == intstr.FromString("http") {
				onHTTP = true
			}
		}
		if !onHTTP {
			continue
		}
		if len(rule.From) == 0 {
			return true
		}
		for _, peer := range rule.From {
			if peer.NamespaceSelector == nil || peer.IPBlock != nil {
				continue
			}
			nsSel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			if err != nil {
				t.Fatal(err)
			}
			anyPod := peer.PodSelector == nil ||
				len(peer.PodSelector.MatchLabels)+len(peer.PodSelector.MatchExpressions) == 0
			if anyPod && nsSel.Matches(ns) {
				return true
			}
		}
	}
	return false
}

// TestChartServiceMonitorNeedsItsPeers: with serviceMonitor.enabled and
// networkPolicy.ingressFrom, the chart refuses to render without serviceMonitor.from, whose
// absence would have the NetworkPolicy drop every scrape.
func TestChartServiceMonitorNeedsItsPeers(t *testing.T) {
	ingress := map[string]any{"namespaceSelector": map[string]any{
		"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}}}
	_, err := renderChart(t, chartValues(map[string]any{
		"networkPolicy":  map[string]any{"ingressFrom": []any{ingress}},
		"serviceMonitor": map[string]any{"enabled": true},
	}))
	if err == nil || !strings.Contains(err.Error(), "serviceMonitor.from") {
		t.Errorf("render = %v, want a refusal naming serviceMonitor.from", err)
	}
}
