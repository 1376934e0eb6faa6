package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/brokerhq/broker/internal/inputfile"
)

// ErrInsecurePermissions is wrapped by the errors about a key file or key directory that someone
// other than the running user could read or change. Such a file is refused: a key planted or
// read by another account would let it sign tokens that every relying party trusts.
var ErrInsecurePermissions = errors.New("keys: insecure permissions")

// maxPrivateFileSize bounds what ReadPrivateFile reads; a key file is a few kilobytes.
const maxPrivateFileSize = 1 << 20

// ReadPrivateFile reads a file holding key material (a private key PEM, key set metadata, a key
// encryption key). It refuses, wrapping ErrInsecurePermissions, a file that is not a regular file,
// that grants any permission to group or others (its mode must be 0600 or stricter), or that the
// running (effective) user does not own. The checks are made on the opened file, so a file
// swapped in between check and read is still checked. Errors name the file and its mode or owner,
// never its content.
func ReadPrivateFile(path string) ([]byte, error) {
	data, err := inputfile.ReadWith(path, inputfile.Rule{
		Limit: maxPrivateFileSize,
		What:  "a key file",
		Check: checkPrivateFile,
	})
	if errors.Is(err, inputfile.ErrNotRegular) {
		return nil, fmt.Errorf("%w: %w", ErrInsecurePermissions, err)
	}
	return data, err
}

// checkPrivateFile applies the rule of ReadPrivateFile to info, the file at path.
func checkPrivateFile(path string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInsecurePermissions, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; it must be 0600 (no access for group or others): chmod 600 %s",
			ErrInsecurePermissions, path, perm, path)
	}
	return checkOwner(path, info)
}

// checkKeyDir refuses, wrapping ErrInsecurePermissions, a key directory that group or others may
// write (they could plant a key or a key set) or that the running user does not own. A missing
// directory passes: it holds no key.
func checkKeyDir(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keys: key directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("keys: key directory %s is not a directory", dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: key directory %s has mode %04o: group or others may write to it: chmod 700 %s",
			ErrInsecurePermissions, dir, perm, dir)
	}
	return checkOwner(dir, info)
}

// checkOwner refuses a file or directory that the running (effective) user does not own.
func checkOwner(path string, info fs.FileInfo) error {
	uid, ok := inputfile.Owner(info)
	if !ok {
		return fmt.Errorf("%w: %s: cannot tell its owner on this platform", ErrInsecurePermissions, path)
	}
	if me := os.Geteuid(); uid != me {
		return fmt.Errorf("%w: %s is owned by uid %d, not by the user broker runs as (uid %d)",
			ErrInsecurePermissions, path, uid, me)
	}
	return nil
}
