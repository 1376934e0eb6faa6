// Package trust renders what a cloud needs to trust broker's tokens for one stack and scope:
// an AWS IAM role trust policy, a GCP workload identity provider and service-account binding,
// Azure federated identity credentials, or a Vault JWT role. It derives the subjects from the
// space's `sub` template, so what it prints matches exactly what broker will mint.
package trust
