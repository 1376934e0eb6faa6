package config

import (
	"testing"
)

// stsEndpointAt is an AWS integration whose sts_endpoint is u.
func stsEndpointAt(u string) string {
	return "integrations:\n  - id: a\n    space: root\n" +
		"    aws: {role_arn: \"arn:aws:iam::123456789012:role/r\", sts_endpoint: \"" + u + "\"}\n"
}

// TestURLPortsInRange checks that a URL's port, when it has one, is one a client can dial (1 to
// 65535): an issuer, an endpoint override, a Vault address or an audit webhook on port 0 or
// 99999 names no server, so every relying party, exchange or delivery would fail at run time;
// Validate reports it at its key, as any other malformed URL.
func TestURLPortsInRange(t *testing.T) {
	checkEdges(t, []edgeCase{
		{"issuer on port 99999", "issuer: https://broker.example.com:99999\n", "issuer"},
		{"issuer on port 0", "issuer: https://broker.example.com:0\n", "issuer"},
		{"sts_endpoint on port 99999", stsEndpointAt("https://sts.example.com:99999"),
			"integrations[0].aws.sts_endpoint"},
		{"vault address on port 70000",
			"integrations:\n  - {id: v, space: root, " +
				"vault: {address: \"https://vault.example.com:70000\", role: r}}\n",
			"integrations[0].vault.address"},
		{"webhook on port 99999",
			"audit: {sinks: [{webhook: {url: \"https://siem.example.com:99999/x\"}}]}\n",
			"audit.sinks[0].webhook.url"},
		{"issuer on port 65535", "issuer: https://broker.example.com:65535\n", ""},
	})
}
