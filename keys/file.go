package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// File layout constants.
const (
	metaPrefix = "keyset-"
	metaSuffix = ".json"
	pemSuffix  = ".pem"
	tmpPrefix  = ".tmp-"
	pemType    = "PRIVATE KEY"
	fileFormat = 1
	// loadAttempts bounds how often Load starts over when a concurrent Save removed a file it
	// was about to read.
	loadAttempts = 5
	// orphanGrace is how old an unreferenced PEM or temporary file must be before a Save removes
	// it: younger ones may belong to a Save in flight in another process.
	orphanGrace = time.Hour
)

// File is a Backend that keeps the key set in a directory, which several replicas (processes,
// hosts on a shared file system with working hard links) may share:
//
//	<kid>.pem                       the private key, PKCS#8 PEM, mode 0600
//	keyset-<generation>.json        the set's metadata (every key's Meta, no secret), the
//	                                generation zero padded to 12 digits
//
// The highest generation is the current set. Save publishes a generation with os.Link, which
// fails when the file exists, so that exactly one of several writers of the same generation wins
// (a compare-and-swap across processes). The directory is created with mode 0700 by the first
// Save. The directory and every file read must belong to the user broker runs as, and no other
// account may write the directory or access the files (see ReadPrivateFile). Errors name files
// but never hold private key bytes.
type File struct {
	dir string
	// beforeLink, when set (tests only), runs just before the metadata file is published.
	beforeLink func()
	// afterPick, when set (tests only), runs when Load has chosen the generation to read.
	afterPick func()
}

var _ Backend = (*File)(nil)

// NewFile returns a backend on the key directory dir.
func NewFile(dir string) *File { return &File{dir: dir} }

// Dir returns the key directory.
func (f *File) Dir() string { return f.dir }

// fileSet is the JSON form of a metadata file.
type fileSet struct {
	Format     int          `json:"format"`
	Generation int64        `json:"generation"`
	Keys       []Meta       `json:"keys"`
	Revoked    []Revocation `json:"revoked,omitempty"`
}

func metaName(gen int64) string { return fmt.Sprintf("%s%012d%s", metaPrefix, gen, metaSuffix) }

func (f *File) metaPath(gen int64) string { return filepath.Join(f.dir, metaName(gen)) }

func (f *File) pemPath(kid string) string { return filepath.Join(f.dir, kid+pemSuffix) }

// parseMetaName returns the generation a metadata file name stands for: only a name exactly as
// metaName writes it counts, so that a stray copy with more leading zeros is never taken for a
// generation that load would then look for under its own name.
func parseMetaName(name string) (int64, bool) {
	digits := strings.TrimSuffix(strings.TrimPrefix(name, metaPrefix), metaSuffix)
	gen, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || gen < 1 || metaName(gen) != name {
		return 0, false
	}
	return gen, true
}

// generations lists the generations present in the directory, ascending; none when the
// directory does not exist.
func (f *File) generations() ([]int64, error) {
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: read key directory: %w", err)
	}
	var gens []int64
	for _, e := range entries {
		if gen, ok := parseMetaName(e.Name()); ok && e.Type().IsRegular() {
			gens = append(gens, gen)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

func highest(gens []int64) int64 {
	if len(gens) == 0 {
		return 0
	}
	return gens[len(gens)-1]
}

// readMeta reads and checks the metadata file of generation gen.
func (f *File) readMeta(gen int64) (fileSet, error) {
	path := f.metaPath(gen)
	data, err := ReadPrivateFile(path)
	if err != nil {
		return fileSet{}, fmt.Errorf("keys: read key set metadata: %w", err)
	}
	var fsSet fileSet
	if err := json.Unmarshal(data, &fsSet); err != nil {
		return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: %w", path, err)
	}
	if fsSet.Format != fileFormat {
		return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: format %d, want %d", path, fsSet.Format, fileFormat)
	}
	if fsSet.Generation != gen {
		return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: generation %d in the file", path, fsSet.Generation)
	}
	for i, m := range fsSet.Keys {
		if err := validKID(m.KID); err != nil {
			return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: key %d: %w", path, i, err)
		}
		if _, err := NormalizeAlg(m.Alg); err != nil || m.Alg == "" {
			return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: key %s: alg %q", path, m.KID, m.Alg)
		}
	}
	for _, r := range fsSet.Revoked {
		if err := validKID(r.KID); err != nil {
			return fileSet{}, fmt.Errorf("keys: %s: corrupted key set metadata: revocation: %w", path, err)
		}
	}
	return fsSet, nil
}

// Generate creates a key in process (see GenerateLocal); Save writes its private key to the
// directory.
func (f *File) Generate(ctx context.Context, alg string, now time.Time) (Key, error) {
	return GenerateLocal(ctx, alg, now)
}

// Load returns the set of the highest generation in the directory, with every listed key's
// private key read from its PEM file. An empty or missing directory is Generation 0. It refuses,
// wrapping ErrInsecurePermissions, a directory that group or others may write or that the running
// user does not own, and a metadata or PEM file that ReadPrivateFile refuses.
func (f *File) Load(ctx context.Context) (Set, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Set{}, err
		}
		set, stale, err := f.load()
		if err == nil || !stale || attempt == loadAttempts {
			return set, err
		}
	}
}

// load reads the highest generation once. stale reports that the error may come from a Save
// that published a newer generation meanwhile, so that starting over may succeed.
func (f *File) load() (set Set, stale bool, err error) {
	if err := checkKeyDir(f.dir); err != nil {
		return Set{}, false, err
	}
	gens, err := f.generations()
	if err != nil || len(gens) == 0 {
		return Set{}, false, err
	}
	top := highest(gens)
	if f.afterPick != nil {
		f.afterPick()
	}
	stored, err := f.readMeta(top)
	if err != nil {
		return Set{}, errors.Is(err, fs.ErrNotExist), err
	}
	set = Set{Generation: top, Keys: make([]Key, 0, len(stored.Keys)), Revoked: stored.Revoked}
	for _, m := range stored.Keys {
		signer, err := f.readPEM(m)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				now, lerr := f.generations()
				stale = lerr == nil && highest(now) > top
			}
			return Set{}, stale, err
		}
		set.Keys = append(set.Keys, Key{Meta: m, Signer: signer})
	}
	// A set Save would refuse (a key both held and revoked, a key listed twice, one without
	// its times) is no set this backend wrote: a hand edit or a corruption, which a replica
	// starting on it would publish and sign with.
	if err := set.Validate(); err != nil {
		return Set{}, false, fmt.Errorf("keys: %s: corrupted key set metadata: %w", f.metaPath(top), err)
	}
	return set, false, nil
}

// readPEM reads the private key of m and checks it against m's Alg and KID.
func (f *File) readPEM(m Meta) (crypto.Signer, error) {
	path := f.pemPath(m.KID)
	data, err := ReadPrivateFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keys: %s: missing private key of key %s: %w", path, m.KID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: read private key: %w", err)
	}
	defer clear(data)
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("keys: %s: not a PKCS#8 PEM private key", path)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// x509 and asn1 errors describe the structure, never the key bytes.
		return nil, fmt.Errorf("keys: %s: parse private key: %w", path, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: %s: %w: private key type %T", path, ErrUnsupportedAlg, priv)
	}
	if err := checkAlg(m.Alg, signer); err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	if kid, err := Thumbprint(signer.Public()); err != nil || kid != m.KID {
		return nil, fmt.Errorf("keys: %s: private key does not match kid %s", path, m.KID)
	}
	return signer, nil
}
