// Command broker is an OIDC identity provider and token broker for infrastructure runs.
//
//	broker serve [--config FILE] [--log-format text|json] [--listen ADDR]
//	broker keys generate|list|rotate --dir DIR|--config FILE
//	broker token [--audience AUD] [--format raw|json|gcp-executable]
//	broker credentials aws|gcp|azure|vault [--integration ID] [--format env|json|credential-process]
//	broker trust aws|gcp|azure|vault [--config FILE] --stack ID --scope read|write [--integration ID]
//	broker apply -f FILE [--dry-run]
//	broker get spaces|stacks|integrations|attachments|roles|api-keys [ID] [-o table|json]
//	broker delete KIND ID
//	broker api-keys create --id ID --bind ROLE@SPACE [--bind ROLE@SPACE...]
//	broker audit verify [--space ID] [--jwks FILE] [--state FILE] [--checkpoint-every N] [--checkpoint-interval D]
//	broker bench [--duration D|--quick] [--clients N] [--only IDS] [--json FILE] [--no-fail] [--soak D] [--target URL --stack ID]
//	broker emulator [--config FILE] [--listen ADDR] [--tls-listen ADDR] [--state-dir DIR] [--cert-file FILE] [--issuer URL]
//	broker version
//
// Every command prints its usage and flags with -h or --help. Every command exits 0 on success,
// 1 on an operational error and 2 on a usage error, with one clear line on stderr.
package main
