package config

import (
	"strings"
	"testing"
)

func TestDecodeYAML(t *testing.T) {
	type lists struct {
		Spaces       []Space       `yaml:"spaces"`
		Integrations []Integration `yaml:"integrations"`
	}
	var got lists
	src := "spaces:\n  - {id: prod, parent: root}\nintegrations:\n  - id: x\n    space: prod\n    vault: {address: http://v, role: r}\n    timeout: 5s\n"
	if err := DecodeYAML("f.yaml", []byte(src), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spaces) != 1 || got.Spaces[0].Parent != "root" || got.Integrations[0].Timeout.String() != "5s" {
		t.Errorf("decoded %+v", got)
	}
	if got.Integrations[0].Vault.Mount != "" {
		t.Error("DecodeYAML applied a default")
	}

	cases := []struct{ name, src, want string }{
		{"unknown top-level key", "issuer: http://x\n", "f.yaml:1: issuer: unknown key"},
		{"unknown nested key", "spaces:\n  - {id: a, parnet: root}\n", "f.yaml:2: spaces[0].parnet: unknown key"},
		{"duplicate", "spaces: []\nspaces: []\n", "spaces: duplicate key"},
		{"wrong type", "spaces: {id: a}\n", "spaces: expected a list"},
		{"bad duration", "integrations:\n  - {id: x, timeout: soon}\n", `invalid duration "soon"`},
		{"syntax", "spaces: [\n", "f.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst lists
			err := DecodeYAML("f.yaml", []byte(tc.src), &dst)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if err := DecodeYAML("f.yaml", nil, &got); err != nil {
		t.Errorf("empty document: %v", err)
	}
}
