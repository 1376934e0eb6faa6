package loadgen

import (
	"runtime/debug"
	"testing"
)

func TestBuildOf(t *testing.T) {
	tests := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
		cgo      bool
	}{
		{"cgo", []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "CGO_ENABLED", Value: "1"}}, "CGO_ENABLED=1", true},
		{"release", []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "CGO_ENABLED", Value: "0"}}, "CGO_ENABLED=0 -trimpath", false},
		{"trimpath false", []debug.BuildSetting{{Key: "-trimpath", Value: "false"}, {Key: "CGO_ENABLED", Value: "0"}}, "CGO_ENABLED=0", false},
		{"no setting", []debug.BuildSetting{{Key: "GOARCH", Value: "amd64"}}, "unknown", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, cgo := buildOf(tc.settings); got != tc.want || cgo != tc.cgo {
				t.Errorf("buildOf = %q, %v; want %q, %v", got, cgo, tc.want, tc.cgo)
			}
		})
	}
}
