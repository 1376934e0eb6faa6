package config

import (
	"strings"
	"testing"
)

// TestLocalhostLookalikeIsNotLoopback: plain http is allowed only on a loopback host;
// a name that merely starts with "localhost" resolves wherever its DNS says, so it must need
// https like any other host (issuer, upstream endpoints, webhook sinks all share isLoopback).
func TestLocalhostLookalikeIsNotLoopback(t *testing.T) {
	for _, host := range []string{"localhost.attacker.example", "localhost-proxy.corp.example"} {
		if IsLoopbackHost(host) {
			t.Errorf("IsLoopbackHost(%q) = true", host)
		}
		_, err := Parse("test", []byte("issuer: http://"+host+":8080\n"))
		if err == nil || !strings.Contains(err.Error(), "plain http is allowed only on a loopback host") {
			t.Errorf("issuer http://%s:8080 accepted (err %v)", host, err)
		}
	}
}

// TestTransitMountMayNotClimb: keys.vault_transit.mount goes into Vault paths as it is;
// a mount that climbs out of its path ("../") must be refused, as integrations' vault.mount is.
func TestTransitMountMayNotClimb(t *testing.T) {
	for _, mount := range []string{"../../sys/wrapping", "transit/../other"} {
		src := iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: https://v:8200, mount: \"" + mount + "\", key: k}\n"
		_, err := Parse("test", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "keys.vault_transit.mount") {
			t.Errorf("keys.vault_transit.mount %q accepted (err %v)", mount, err)
		}
	}
}
