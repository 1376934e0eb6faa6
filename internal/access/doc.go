// Package access authenticates control-plane callers by API key and authorises their actions
// by role bindings on the space tree (contract sections 3 and 7).
//
// An API key is stored only as the SHA-256 of its secret. Authenticate hashes a presented
// secret and looks the hash up. Allowed then grants
// an action in a space when one of the key's bindings names that space or one of its ancestors
// and the bound role holds the action: a binding covers its space's whole subtree.
package access
