package trust

import (
	"fmt"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// VaultWriteCommand returns the vault CLI line that installs, from its standard input, the Vault
// JWT role Render prints for req: `vault write auth/<mount>/role/<role> @-`, with -namespace
// when the integration names one.
func VaultWriteCommand(cfg *config.Config, req Request) (string, error) {
	if req.Provider != exchange.Vault {
		return "", fmt.Errorf("%s is not a vault request", req.Provider)
	}
	t, err := resolve(cfg, req)
	if err != nil {
		return "", err
	}
	v := t.integration.Vault
	ns := ""
	if v.Namespace != "" {
		ns = " -namespace=" + v.Namespace
	}
	return fmt.Sprintf("vault write%s auth/%s/role/%s @-", ns, strings.Trim(v.Mount, "/"), v.Role), nil
}
