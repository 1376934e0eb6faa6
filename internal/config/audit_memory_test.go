package config

import (
	"strings"
	"testing"
)

func TestAuditMemoryRetain(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       int
		wantErr    string
	}{
		{"default", "", DefaultAuditMemoryRetain, ""},
		{"set", "audit: {memory: {retain: 500}}\n", 500, ""},
		{"one", "audit: {memory: {retain: 1}}\n", 1, ""},
		{"negative", "audit: {memory: {retain: -5}}\n", 0, "audit.memory.retain"},
		{"not a number", "audit: {memory: {retain: many}}\n", 0, "audit.memory.retain"},
		{"unknown key", "audit: {memory: {keep: 5}}\n", 0, "audit.memory.keep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\n"+tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Audit.Memory.Retain; got != tc.want {
				t.Errorf("audit.memory.retain = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAuditMemorySinkBacklog(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       int
		wantErr    string
	}{
		{"default", "", DefaultAuditSinkBacklog, ""},
		{"set", "audit: {memory: {sink_backlog: 500}}\n", 500, ""},
		{"negative", "audit: {memory: {sink_backlog: -5}}\n", 0, "audit.memory.sink_backlog"},
		{"too many", "audit: {memory: {sink_backlog: 2000000000}}\n", 0, "audit.memory.sink_backlog"},
	}
	for _, tc := range tests {
		cfg, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\n"+tc.yaml))
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr == "" && cfg.Audit.Memory.SinkBacklog != tc.want:
			t.Errorf("%s: audit.memory.sink_backlog = %d, want %d", tc.name, cfg.Audit.Memory.SinkBacklog, tc.want)
		}
	}
}
