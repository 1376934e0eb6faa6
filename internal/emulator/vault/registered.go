package vaultemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

// registeredClaims are the claims Vault decodes into go-jose's jwt.Claims to check them.
var registeredClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// registeredAsVaultReads checks a verified token's registered claims as Vault reads them. Vault
// decodes the payload into a struct whose fields take a key in any case, under Unicode folding,
// so "Sub", "EXP" or "iſs" stand for sub, exp and iss (the later of two such keys winning). It
// returns Vault's wording for a claim such a key makes of the wrong type, or an issuer it makes
// another one; where it gives any other registered claim a value the exact key does not have,
// a refusal of the emulator's own (Vault checks that value; the emulator, stricter, refuses
// it). It returns "" when the registered claims read as their exact keys say.
func registeredAsVaultReads(token string, claims oidctrust.Claims, issuer string) string {
	algs := make([]jose.SignatureAlgorithm, 0, len(signingAlgorithms))
	for _, a := range signingAlgorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	//lint:ignore SA1019 Vault's verifier parses with ParseSigned, and so does its emulator.
	jws, err := jose.ParseSigned(token, algs)
	if err != nil {
		return "error verifying token signature: token is malformed"
	}
	var read jwt.Claims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &read); err != nil {
		return err.Error()
	}
	if read.Issuer != issuer {
		return "invalid issuer (iss) claim"
	}
	exact := map[string]any{}
	for _, name := range registeredClaims {
		if v, ok := claims[name]; ok {
			exact[name] = v
		}
	}
	var want jwt.Claims
	if data, err := json.Marshal(exact); err != nil || json.Unmarshal(data, &want) != nil {
		return "error verifying token signature: token is malformed"
	}
	if reflect.DeepEqual(read, want) {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		folds := func(r string) bool { return strings.EqualFold(r, name) }
		if !slices.Contains(registeredClaims, name) && slices.ContainsFunc(registeredClaims, folds) {
			return fmt.Sprintf("claim %q is read as a registered claim of another spelling", name)
		}
	}
	return "registered claims read otherwise than their names say"
}
