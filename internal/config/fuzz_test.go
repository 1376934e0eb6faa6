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
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}
