package keys

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Save writes the PEM files of the keys of next not yet on disk, then publishes the metadata of
// next as generation next.Generation. It fails with ErrConflict when the highest generation on
// disk is not next.Generation-1 or when another writer published next.Generation first. After a
// successful save it removes metadata older than the previous generation and the PEM files of
// keys dropped from the set. Like Load, it refuses a directory that group or others may write or
// that the running user does not own.
func (f *File) Save(ctx context.Context, next Set) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("keys: create key directory: %w", err)
	}
	if err := checkKeyDir(f.dir); err != nil {
		return err
	}
	gens, err := f.generations()
	if err != nil {
		return err
	}
	if top := highest(gens); top != next.Generation-1 {
		return fmt.Errorf("%w: generation %d on disk, saving %d", ErrConflict, top, next.Generation)
	}
	created, err := f.writePEMs(next)
	if err != nil {
		f.removeUnreferenced(created)
		return err
	}
	if err := f.publish(next); err != nil {
		f.removeUnreferenced(created)
		return err
	}
	f.cleanup(next.Generation)
	return nil
}

// writePEMs writes the PEM file of every key of set that has none, and returns their paths.
func (f *File) writePEMs(set Set) ([]string, error) {
	var created []string
	for _, k := range set.Keys {
		path := f.pemPath(k.KID)
		if _, err := os.Lstat(path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return created, fmt.Errorf("keys: stat private key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
		if err != nil {
			return created, fmt.Errorf("keys: key %s: encode private key: %w", k.KID, err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
		tmp, err := f.writeTemp(data)
		clear(der)
		clear(data)
		if err != nil {
			return created, err
		}
		if err := os.Rename(tmp, path); err != nil {
			_ = os.Remove(tmp)
			return created, fmt.Errorf("keys: store private key of key %s: %w", k.KID, err)
		}
		created = append(created, path)
	}
	if len(created) > 0 {
		syncDir(f.dir) // the keys are durable before any metadata names them
	}
	return created, nil
}

// publish writes the metadata of set and links it into place as its generation.
func (f *File) publish(set Set) error {
	data, err := json.MarshalIndent(fileSet{Format: fileFormat, Generation: set.Generation, Keys: set.Metas(), Revoked: set.Revoked}, "", "  ")
	if err != nil {
		return fmt.Errorf("keys: encode key set metadata: %w", err)
	}
	tmp, err := f.writeTemp(append(data, '\n'))
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	if f.beforeLink != nil {
		f.beforeLink()
	}
	final := f.metaPath(set.Generation)
	if err := os.Link(tmp, final); errors.Is(err, fs.ErrExist) {
		// Load counts regular files only: anything else of that name is no other writer's save,
		// and would refuse every save as a conflict.
		if info, lerr := os.Lstat(final); lerr == nil && !info.Mode().IsRegular() {
			return fmt.Errorf("keys: %s is not a regular file: remove it", final)
		}
		return fmt.Errorf("%w: generation %d was saved by another writer", ErrConflict, set.Generation)
	} else if err != nil {
		return fmt.Errorf("keys: publish key set metadata: %w", err)
	}
	syncDir(f.dir)
	// A writer that stalled long enough for cleanup to remove its generation could have
	// recreated it below newer ones: take it back and report the conflict.
	gens, err := f.generations()
	if err != nil {
		return err
	}
	if top := highest(gens); top > set.Generation {
		_ = os.Remove(final)
		return fmt.Errorf("%w: generation %d on disk, saving %d", ErrConflict, top, set.Generation)
	}
	return nil
}

// writeTemp writes data to a new mode 0600 temporary file in the directory and syncs it.
func (f *File) writeTemp(data []byte) (string, error) {
	tmp, err := os.CreateTemp(f.dir, tmpPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("keys: create temporary file: %w", err)
	}
	name := tmp.Name()
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("keys: write temporary file %s: %w", name, err)
	}
	return name, nil
}

// referenced returns the KIDs listed by the metadata of the given generations, and false when
// one of them could not be read.
func (f *File) referenced(gens []int64) (map[string]bool, bool) {
	kids := map[string]bool{}
	for _, g := range gens {
		stored, err := f.readMeta(g)
		if err != nil {
			return nil, false
		}
		for _, m := range stored.Keys {
			kids[m.KID] = true
		}
	}
	return kids, true
}

// removeUnreferenced removes the given PEM files unless a published generation lists their key
// (another writer saving the same key may have won).
func (f *File) removeUnreferenced(paths []string) {
	if len(paths) == 0 {
		return
	}
	gens, err := f.generations()
	if err != nil {
		return
	}
	kids, ok := f.referenced(gens)
	if !ok {
		return
	}
	for _, p := range paths {
		if !kids[strings.TrimSuffix(filepath.Base(p), pemSuffix)] {
			_ = os.Remove(p)
		}
	}
}

// cleanup runs after generation gen was published. It is best effort: a file it cannot remove
// now is removed by a later Save. It removes the PEM files of keys listed by older generations
// but by none from gen on, unreferenced PEM and temporary files older than orphanGrace (left by a
// crash or a lost race), and metadata older than gen-1.
func (f *File) cleanup(gen int64) {
	gens, err := f.generations()
	if err != nil {
		return
	}
	split, _ := slices.BinarySearch(gens, gen)
	older, current := gens[:split], gens[split:]
	keep, ok := f.referenced(current)
	if !ok {
		return
	}
	dropped, ok := f.referenced(older)
	if !ok {
		dropped = map[string]bool{}
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(f.dir, name)
		switch {
		case strings.HasSuffix(name, pemSuffix) && !strings.HasPrefix(name, "."):
			kid := strings.TrimSuffix(name, pemSuffix)
			if !keep[kid] && (dropped[kid] || olderThan(e, orphanGrace)) {
				_ = os.Remove(path)
			}
		case strings.HasPrefix(name, tmpPrefix):
			if olderThan(e, orphanGrace) {
				_ = os.Remove(path)
			}
		}
	}
	for _, g := range older {
		if g < gen-1 {
			_ = os.Remove(f.metaPath(g))
		}
	}
}

func olderThan(e fs.DirEntry, d time.Duration) bool {
	info, err := e.Info()
	return err == nil && time.Since(info.ModTime()) > d
}

// syncDir makes a rename or link in dir durable. It is best effort: not every file system can
// sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
