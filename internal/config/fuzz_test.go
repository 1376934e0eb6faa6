package config

import (
	"os"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/contract"
)

// FuzzParse: no input makes the decoder or the validator panic; every refusal is an error.
func FuzzParse(f *testing.F) {
	if p, ok := contract.Lookup(); ok { // a seed only: the fuzz target runs without it
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add(defaultYAML)
	for _, s := range []string{
		"issuer: https://x\n", "spaces: [{id: a, parent: a}]", "keys: {rotation: {period: -1h}}",
		"a: &x [*x]", "issuer: [1, {2: 3}]", "stacks:\n  - id: s\n    space: root\n    space: root\n", "\t- :",
	} {
		f.Add([]byte(s))
	}
	// Hostile subject templates: colliding subs, wildcards, overlapping spaces.
	for _, tmpl := range []string{
		"repo:{spacePath}:{callerId}", "{spaceId}-{callerId}-{scope}", "space:{spaceId}:stack:{callerId}{runId}",
		"s:{callerId}:*:{scope}", "{spacePath}/{callerId}:{scope}", "{callerId}:{runId}", "{{scope}}:{callerId}",
		"space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}", "{callerId}:{scope}:{runId}",
	} {
		f.Add([]byte("issuer: https://x\nspaces:\n  - {id: a, parent: root, subject_template: \"" + tmpl + "\"}\n" +
			"  - {id: a-b, parent: a, subject_template: \"{spaceId}:{callerId}:{scope}\"}\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}
