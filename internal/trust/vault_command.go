package trust

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// VaultWriteCommand returns the vault CLI line that installs, from its standard input, the Vault
// JWT role Render prints for req: `vault write auth/<mount>/role/<role> -`, with -namespace
// when the integration names one. A lone "-" is how the vault CLI reads a request's JSON
// from its standard input ("@-" would name a file called "-"). The mount itself must be
// configured as VaultAuthConfigCommand says.
func VaultWriteCommand(cfg *config.Config, req Request) (string, error) {
	v, err := vaultOf(cfg, req)
	if err != nil {
		return "", err
	}
	return vaultCommand(v, "role/"+v.Role, "-"), nil
}

// VaultAuthConfigCommand returns the vault CLI line that configures the JWT auth mount of
// req's integration to trust broker's issuer and no other:
// `vault write auth/<mount>/config oidc_discovery_url=<issuer> bound_issuer=<issuer>`, both
// the exact issuer (with -namespace when the integration names one). Without bound_issuer
// Vault checks no iss: a token of another issuer signed with a key the JWKS holds (a second
// broker sharing keys.dir) would log in to every role of the mount.
func VaultAuthConfigCommand(cfg *config.Config, req Request) (string, error) {
	v, err := vaultOf(cfg, req)
	if err != nil {
		return "", err
	}
	return vaultAuthConfig(cfg, v), nil
}

// vaultAuthConfig is VaultAuthConfigCommand for the mount of v.
func vaultAuthConfig(cfg *config.Config, v *config.Vault) string {
	return vaultCommand(v, "config", "oidc_discovery_url="+cfg.Issuer, "bound_issuer="+cfg.Issuer)
}

// vaultOf is the Vault integration req resolves to.
func vaultOf(cfg *config.Config, req Request) (*config.Vault, error) {
	if req.Provider != exchange.Vault {
		return nil, fmt.Errorf("%s is not a vault request", req.Provider)
	}
	t, err := resolve(cfg, req)
	if err != nil {
		return nil, err
	}
	return t.integration.Vault, nil
}

// vaultCommand is `vault write [-namespace=NS] auth/<mount>/<path> args...` for v, each word
// quoted for a POSIX shell.
func vaultCommand(v *config.Vault, path string, args ...string) string {
	words := []string{"vault", "write"}
	if v.Namespace != "" {
		words = append(words, "-namespace="+v.Namespace)
	}
	words = append(words, "auth/"+strings.Trim(v.Mount, "/")+"/"+path)
	words = append(words, args...)
	for i, w := range words {
		words[i] = shellWord(w)
	}
	return strings.Join(words, " ")
}

// plainWord is what a POSIX shell reads as one word, literally, without quotes.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./@=:,+-]+$`)

// shellWord is s as one literal word of a POSIX shell: as it is when plain, else single-quoted.
// Configuration values end up in a line an operator runs; none may add a word or a command.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
