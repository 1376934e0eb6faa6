// Package tooltest finds the programs a test runs (aws, nginx, systemd-analyze, ...): a test
// skips, saying so, when one is not installed, unless BROKER_REQUIRE_TOOLS names it. The test
// script sets that list to the programs it installs from a registry, so that a test needing one
// never passes by skipping in CI.
package tooltest
