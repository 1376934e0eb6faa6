//go:build !unix

package inputfile

import "io/fs"

// Owner cannot tell a file's owner on this platform: it reports false, and callers refuse what
// needs an owner.
func Owner(fs.FileInfo) (int, bool) { return 0, false }
