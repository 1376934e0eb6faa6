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
// from its standard input ("@-" would name a file called "-").
func VaultWriteCommand(cfg *config.Config, req Request) (string, error) {
	if req.Provider != exchange.Vault {
		return "", fmt.Errorf("%s is not a vault request", req.Provider)
	}
	t, err := resolve(cfg, req)
	if err != nil {
		return "", err
	}
	v := t.integration.Vault
	args := []string{"vault", "write"}
	if v.Namespace != "" {
		args = append(args, "-namespace="+v.Namespace)
	}
	args = append(args, "auth/"+strings.Trim(v.Mount, "/")+"/role/"+v.Role, "-")
	for i, a := range args {
		args[i] = shellWord(a)
	}
	return strings.Join(args, " "), nil
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
