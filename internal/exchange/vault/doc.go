// Package vault exchanges a broker ID token for a Vault token through Vault's JWT auth method:
// it posts {"role", "jwt"} to <address>/v1/auth/<mount>/login with the official Vault API
// client and hands back VAULT_ADDR and VAULT_TOKEN (contract sections 3 and 6).
package vault
