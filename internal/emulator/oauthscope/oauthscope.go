package oauthscope

import "strings"

// Split splits a scope parameter into its scope-tokens. Scope-tokens are separated by spaces
// (RFC 6749 section 3.3: scope = scope-token *( SP scope-token )) and by nothing else: a tab,
// a line feed or a no-break space is part of a scope-token, which the services then refuse as
// malformed. Empty tokens between repeated spaces are dropped.
func Split(scope string) []string {
	return strings.FieldsFunc(scope, func(r rune) bool { return r == ' ' })
}
