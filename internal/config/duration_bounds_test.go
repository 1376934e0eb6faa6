package config

import "testing"

// TestAzureDurationUsable pins that an Azure integration's duration, the longest lifetime
// broker hands Entra's token on for, leaves room for the shortest token Entra ID grants (10m, less
// the 5m broker allows past the duration): a shorter one would have broker refuse every
// exchange's answer, so Validate refuses it; longer ones are taken.
func TestAzureDurationUsable(t *testing.T) {
	azure := func(d string) string {
		return "integrations:\n  - id: az\n    space: root\n    duration: " + d + "\n    azure: {tenant_id: " +
			"\"00000000-0000-0000-0000-000000000001\", client_id: \"00000000-0000-0000-0000-000000000002\"}\n"
	}
	const path = "integrations[0].duration"
	checkEdges(t, []edgeCase{
		{"azure duration of a second", azure("1s"), path},
		{"azure duration of half a second", azure("500ms"), path},
		{"azure duration of four minutes and 59 seconds", azure("4m59s"), path},
		{"azure duration of five minutes", azure("5m"), ""},
		{"azure duration of an hour", azure("1h"), ""},
		{"azure duration of two days", azure("48h"), ""},
	})
}

// TestRunTTLFromASecond pins runs.ttl's rule: at least a second (a run's token expires with it
// and its exp counts seconds), and so greater than zero.
func TestRunTTLFromASecond(t *testing.T) {
	const path = "runs.ttl"
	checkEdges(t, []edgeCase{
		{"a millisecond", "runs: {ttl: 1ms}\n", path},
		{"just under a second", "runs: {ttl: 999ms}\n", path},
		{"zero", "runs: {ttl: 0s}\n", path},
		{"a second", "runs: {ttl: 1s}\n", ""},
		{"a minute and a half second", "runs: {ttl: 1m0.5s}\n", ""},
		{"a day", "runs: {ttl: 24h}\n", ""},
	})
}

// TestAzureNeedsTokenAndRunLifetimes pins that with an Azure integration, tokens.ttl and runs.ttl
// are each at least a minute: the ARM_OIDC_TOKEN an Azure exchange hands over is minted then, lives
// neither past tokens.ttl nor past its run, and must still have 30s left when it arrives, so a
// shorter lifetime would have every Azure exchange refused. Without an Azure integration the
// same lifetimes are taken.
func TestAzureNeedsTokenAndRunLifetimes(t *testing.T) {
	const azure = "integrations:\n  - id: az\n    space: root\n    azure: {tenant_id: " +
		"\"00000000-0000-0000-0000-000000000001\", client_id: \"00000000-0000-0000-0000-000000000002\"}\n"
	const vault = "integrations:\n  - id: v\n    space: root\n    vault: {address: \"https://vault.example.com\", role: r}\n"
	checkEdges(t, []edgeCase{
		{"tokens.ttl of 30s with azure", "tokens: {ttl: 30s}\n" + azure, "tokens.ttl"},
		{"tokens.ttl of 59s with azure", "tokens: {ttl: 59s}\n" + azure, "tokens.ttl"},
		{"tokens.ttl of a minute with azure", "tokens: {ttl: 1m}\n" + azure, ""},
		{"runs.ttl of 10s with azure", "runs: {ttl: 10s}\n" + azure, "runs.ttl"},
		{"runs.ttl of a minute with azure", "runs: {ttl: 1m}\n" + azure, ""},
		{"tokens.ttl of 30s without azure", "tokens: {ttl: 30s}\n" + vault, ""},
		{"runs.ttl of 10s without azure", "runs: {ttl: 10s}\n" + vault, ""},
	})
}
