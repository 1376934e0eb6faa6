// Package emulator holds strict emulators of the cloud endpoints broker exchanges tokens with:
// AWS STS (aws), Google STS and IAM Credentials (gcp), Entra ID's token endpoint (azure) and
// Vault's JWT login and token lookup-self (vault).
// They validate federated tokens as the real services document it (package oidctrust) and
// answer with the real success and error shapes. They back broker's tests, and `broker emulator`
// serves them so a user can try broker without a cloud account. They are not clouds: they mint
// opaque fake credentials and keep no state beyond their configuration (and, for Vault, the
// tokens it issued, so lookup-self can answer).
package emulator
