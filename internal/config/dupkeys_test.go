package config

import (
	"strings"
	"testing"
)

// TestParseRefusesRepeatedAndCaseVariantKeys requires that a key given twice in one mapping, at
// any depth and in any spelling YAML treats as equal, and a key that differs from a known one
// only in case, are refused rather than silently resolved to one of the values.
func TestParseRefusesRepeatedAndCaseVariantKeys(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"top level", iss + "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", "listen: duplicate key"},
		{"nested mapping", iss + "keys:\n  algorithm: RS256\n  algorithm: ES256\n", "keys.algorithm: duplicate key"},
		{"flow mapping in a list", iss + "stacks:\n  - {id: a, space: root, space: prod}\n", "stacks[0].space: duplicate key"},
		{"quoted spelling", iss + "runs:\n  ttl: 1h\n  \"ttl\": 2h\n", "runs.ttl: duplicate key"},
		{"deep provider block", withIntegration("    aws:\n      role_arn: arn:aws:iam::123456789012:role/a\n      role_arn: arn:aws:iam::123456789012:role/b\n"),
			"integrations[0].aws.role_arn: duplicate key"},
		{"case variant", iss + "Issuer: https://other.example.com\n", "Issuer: unknown key"},
		{"nested case variant", iss + "tokens:\n  TTL: 5m\n", "tokens.TTL: unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("Parse() accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() = %v, want a problem %q", err, tc.want)
			}
		})
	}
}
