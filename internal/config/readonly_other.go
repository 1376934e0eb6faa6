//go:build !linux

package config

// readOnlyMount reports whether dir lies on a mount nobody may write; off Linux it is not
// known, and no mount counts as read-only.
func readOnlyMount(string) bool { return false }
