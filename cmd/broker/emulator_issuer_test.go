package main

import (
	"errors"
	"strings"
	"testing"
)

// TestEmulatorIssuerFlagTakesOnlyABrokerIssuer: broker emulator --issuer takes only an issuer
// a broker can have, by the configuration's own rule: an empty query ("?"), an empty fragment
// ("#"), user information, a trailing slash or plain http off loopback is a usage error, since
// no broker signs tokens of such an issuer and the emulator would refuse every token. The
// message never shows a password.
func TestEmulatorIssuerFlagTakesOnlyABrokerIssuer(t *testing.T) {
	for _, issuer := range []string{
		"https://broker.example.com?",
		"https://broker.example.com#",
		"https://user:secret@broker.example.com",
		"https://broker.example.com/",
		"http://broker.example.com",
		"broker.example.com",
	} {
		err := checkIssuerFlag(issuer)
		var u usageError
		if !errors.As(err, &u) || strings.Contains(err.Error(), "secret") {
			t.Errorf("--issuer %q = %v; want a usage error, without the password", issuer, err)
		}
	}
	for _, issuer := range []string{
		"https://broker.example.com",
		"https://broker.example.com:8443/tenant-a",
		"http://127.0.0.1:8080",
	} {
		if err := checkIssuerFlag(issuer); err != nil {
			t.Errorf("--issuer %q = %v; want it taken", issuer, err)
		}
	}
	r := runCLI(nil, "emulator", "--issuer", "https://user:secret@broker.example.com")
	if r.code != exitUsage || strings.Contains(r.stderr, "secret") {
		t.Errorf("broker emulator with a password in --issuer: exit %d, stderr %q; want 2, "+
			"without the password", r.code, r.stderr)
	}
}
