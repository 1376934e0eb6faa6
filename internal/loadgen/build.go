package loadgen

import (
	"runtime/debug"
)

// cgoNote is the caveat of a run whose servers are a cgo build.
const cgoNote = "this binary (and so every broker server it starts) is a cgo build, linked to the C library: " +
	"the release build (CGO_ENABLED=0, as deploy/Dockerfile makes it) is static and its resident memory smaller"

// buildOf describes a binary's build from its settings: "CGO_ENABLED=<v>" and, when set,
// "-trimpath"; "unknown" without the setting.
func buildOf(settings []debug.BuildSetting) (desc string, cgo bool) {
	cgoValue, trimpath := "", false
	for _, s := range settings {
		switch s.Key {
		case "CGO_ENABLED":
			cgoValue = s.Value
		case "-trimpath":
			trimpath = s.Value == "true"
		}
	}
	if cgoValue == "" {
		return "unknown", false
	}
	desc = "CGO_ENABLED=" + cgoValue
	if trimpath {
		desc += " -trimpath"
	}
	return desc, cgoValue == "1"
}

// thisBuild describes this binary's build (buildOf).
func thisBuild() (string, bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown", false
	}
	return buildOf(info.Settings)
}
