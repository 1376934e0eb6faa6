package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/inputfile"
	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes one decode visits, so that aliases cannot blow it up.
const maxNodes = 1_000_000

// Aliases may add to a document at most aliasFactor times its own nodes, or aliasFloor nodes
// when that is more (and maxNodes in all): a small file cannot make its reader decode, and
// validate, a million nodes. A list of labels shared by every stack stays well inside.
const (
	aliasFactor = 10
	aliasFloor  = 100_000
)

// maxProblems bounds the problems Parse lists; past it one more says how many were left out,
// so that an error (logged, and audited on a reload) stays small whatever the file.
const maxProblems = 100

// Load reads the configuration file at path, applies defaults and validates it. On a problem in
// the file it returns Errors listing every problem, each naming path and line.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// MaxFileBytes bounds the configuration file: a larger one is refused before it is parsed, so
// that a reload inside a serving replica cannot spend minutes and gigabytes on it. A catalog of
// 10,000 stacks takes about 1 MiB.
const MaxFileBytes = 8 << 20

// readFile reads the configuration file at path. It must be a regular file (a FIFO or a device
// would block a reload, and every reload after it) of at most MaxFileBytes, that others may not
// write nor replace in its directory: whoever can do either grants themselves every role. Group
// write is allowed: it is what a umask of 002 gives a checked-out file, and how a team of
// operators shares one.
func readFile(path string) ([]byte, error) {
	return inputfile.ReadWith(path, inputfile.Rule{
		Limit: MaxFileBytes,
		What:  "a configuration file",
		Check: func(path string, info fs.FileInfo) error {
			if perm := info.Mode().Perm(); perm&0o002 != 0 {
				return fmt.Errorf("%s has mode %04o: anyone may write it, and whoever writes it decides every "+
					"role and API key; chmod o-w %s", path, perm, path)
			}
			return checkReplaceable(path)
		},
	})
}

// maxLinkHops bounds the symbolic links checkReplaceable follows, as the kernel bounds them.
const maxLinkHops = 40

// checkReplaceable refuses path when anyone may replace what it reads: whoever may write a
// directory on the way to the file may rename what it holds there (a directory, a link, the
// file itself) and put their own in its place, unless the directory is sticky, as /tmp is (then
// only the owner of a name may, so the name must be owned by root, broker's user or the
// directory's owner), or lies on a read-only mount. The path is walked one name at a
// time as the kernel does: a link's relative target, ".." included, starts from the directory
// the link really lies in, and the directories on the way to the link's target are checked too.
func checkReplaceable(path string) error {
	// Not cleaned: ".." after a link climbs from where the link points, as the kernel has it.
	abs := path
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		abs = wd + "/" + path
	}
	walked := "/" // the part walked, with no link left in it
	todo := strings.Split(abs, "/")
	for hops := 0; len(todo) > 0; {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			walked = filepath.Dir(walked)
			continue
		}
		next := filepath.Join(walked, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := replaceableIn(walked, fi, stepName(path, next, fi)); err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			walked = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("%s: more than %d symbolic links on the way to the file", path, maxLinkHops)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if filepath.IsAbs(target) {
			walked = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}

// stepName names, for a refusal, next (found as fi) on the way to the file at path.
func stepName(path, next string, fi fs.FileInfo) string {
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Sprintf("%s (through the link %s)", path, next)
	case fi.IsDir():
		return fmt.Sprintf("%s (through the directory %s)", path, next)
	}
	if abs, err := filepath.Abs(path); err == nil && abs == next {
		return path
	}
	return fmt.Sprintf("%s (through the link to %s)", path, next)
}

// replaceableIn refuses what (found as fi), which lies in dir (a directory with no link in its
// path), when dir is one anyone may write on a writable mount. Unless dir is sticky, anyone may
// rename what away there. When it is, only the owner of a name may (and dir's owner), but anyone
// may have made the name: what must be owned by root, by the user broker runs as, or by dir's
// owner, as the kernel's protected_symlinks and protected_regular ask of the names they follow.
func replaceableIn(dir string, fi fs.FileInfo, what string) error {
	di, err := os.Stat(dir)
	if err != nil || di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	if di.Mode()&os.ModeSticky != 0 {
		owner, ok := inputfile.Owner(fi)
		dirOwner, _ := inputfile.Owner(di)
		if !ok || owner == 0 || owner == os.Geteuid() || owner == dirOwner || readOnlyMount(dir) {
			return nil
		}
		return fmt.Errorf("%s lies in %s, of mode %04o (sticky), and is owned by uid %d: anyone may have made "+
			"that name there, and its owner may replace what it holds, deciding every role and API key; "+
			"keep it owned by root or by the user broker runs as", what, dir, di.Mode().Perm()|0o1000, owner)
	}
	if readOnlyMount(dir) {
		return nil
	}
	return fmt.Errorf("%s lies in %s, of mode %04o: anyone may replace it there, and whoever does decides every "+
		"role and API key; chmod o-w %s", what, dir, di.Mode().Perm(), dir)
}

// Parse decodes a configuration from data, applies defaults and validates it. source names the
// data in messages and becomes Config.Source. On a problem it returns Errors listing every one.
func Parse(source string, data []byte) (*Config, error) {
	root, err := readDocument(source, data)
	if err != nil {
		return nil, err
	}
	d := newFileDecoder(source, root)
	cfg := &Config{Source: source}
	if root.Kind != 0 && root.Kind != yaml.DocumentNode {
		d.decode(root, "", reflect.ValueOf(cfg).Elem())
	}
	cfg.lines = d.lines
	cfg.ApplyDefaults()

	errs := d.errs
	if d.tooLarge != nil {
		return nil, d.problems(errs) // what was read is cut short: validating it says nothing more
	}
	if err := cfg.Validate(); err != nil {
		for _, fe := range err.(Errors) {
			if !d.isBad(fe.Path) {
				errs = append(errs, fe)
			}
		}
	}
	if len(errs) > 0 {
		return nil, d.problems(errs)
	}
	return cfg, nil
}

// newFileDecoder is the decoder of the document root for Parse: it records at most maxProblems
// problems, and decodes at most the nodes aliases may add to root's own (aliasFactor).
func newFileDecoder(source string, root *yaml.Node) *decoder {
	own := countNodes(root)
	return &decoder{source: source, lines: map[string]int{}, bad: map[string]bool{}, limit: maxProblems,
		budget: min(maxNodes, own+max(aliasFloor, aliasFactor*own))}
}

// countNodes counts the nodes of the tree under n, an alias as one node (what it stands for is
// not counted again).
func countNodes(n *yaml.Node) int {
	count := 1
	for _, c := range n.Content {
		count += countNodes(c)
	}
	return count
}

// problems is errs sorted by line and cut to maxProblems, the document's being too large first
// when it is, then one problem counting those left out, here and by the decoder (fail).
func (d *decoder) problems(errs Errors) Errors {
	errs.sortByLine()
	if i := slices.Index(errs, d.tooLarge); i > 0 {
		copy(errs[1:i+1], errs[:i])
		errs[0] = d.tooLarge
	}
	n := min(len(errs), maxProblems)
	rest := d.dropped + len(errs) - n
	if errs = errs[:n:n]; rest > 0 {
		errs = append(errs, &FieldError{Source: d.source, Msg: fmt.Sprintf("and %d more problems not listed", rest)})
	}
	return errs
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readDocument parses data as one YAML document and returns its root node (of Kind 0 when the
// document is empty). Every later document up to the end of data must be empty: one that is
// not is refused, naming its line, not ignored, since what it holds would never be read or
// checked.
func readDocument(source string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(source, err)}
	}
	for n := 2; ; n++ {
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF) && doc.Kind == yaml.DocumentNode && len(doc.Content) > 0:
			return doc.Content[0], nil
		case errors.Is(err, io.EOF):
			return &doc, nil
		case err != nil:
			return nil, Errors{syntaxError(source, err)}
		case len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null"):
			which := "a second YAML document"
			if n > 2 {
				which = fmt.Sprintf("YAML document number %d", n)
			}
			return nil, Errors{&FieldError{Source: source, Line: next.Line,
				Msg: which + " starts here; the file must hold exactly one"}}
		}
	}
}

// syntaxError turns a YAML parser error into a FieldError, keeping its line.
func syntaxError(source string, err error) *FieldError {
	msg := err.Error()
	fe := &FieldError{Source: source}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	fe.Msg = "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
	return fe
}

// decoder walks a yaml.Node tree into Go values by their yaml tags, collecting every problem.
type decoder struct {
	source string
	errs   Errors
	// lines records the line of every key path met.
	lines map[string]int
	// bad holds the paths whose value could not be decoded; validation problems at or below
	// them are noise and are dropped.
	bad   map[string]bool
	nodes int
	// budget, when not 0, bounds nodes below maxNodes; tooLarge is the problem of passing either.
	budget   int
	tooLarge *FieldError
	// limit bounds the problems recorded in errs (0: no bound); past it, dropped counts them.
	limit, dropped int
	// keyName turns a field's YAML key into the key expected in the document; nil keeps it
	// (JSON bodies of the API use camelCase, see DecodeJSON).
	keyName func(string) string
	// jsonTypes holds a string field to a JSON string (DecodeJSON): a JSON number or boolean
	// where a string belongs is a type error, not its text, as a YAML file's unquoted 123 is.
	jsonTypes bool
}

var durationType = reflect.TypeOf(time.Duration(0))

// fail records a problem at path, or only counts it once limit problems are recorded.
func (d *decoder) fail(n *yaml.Node, path, value, format string, args ...any) {
	if d.limit > 0 && len(d.errs) >= d.limit {
		d.dropped++
		return
	}
	d.errs = append(d.errs, newFieldError(d.source, n.Line, path, value, format, args...))
}

// typeError records a value of the wrong type and marks its path as bad. A single value where
// a mapping or a list belongs is not quoted: it is most often a credential written in place of
// its block (a Redis URL with its password for store.redis, a webhook URL for a sink, a key for
// keys.redis), and the error reaches the log and, on a refused reload, the audit trail.
func (d *decoder) typeError(n *yaml.Node, path, want string) {
	d.bad[path] = true
	value, got := scalarValue(n), describe(n)
	if n.Kind == yaml.ScalarNode && (want == wantMapping || want == wantList) {
		value, got = "", "a single value (not shown: it may hold a credential)"
	}
	d.fail(d.at(n, path), path, value, "expected %s, got %s", want, got)
}

// What typeError names as expected where the node must be a block.
const (
	wantMapping = "a mapping"
	wantList    = "a list"
)

// at returns a node positioned on the line of path's key when one was recorded (a block mapping
// value starts on the line after its key), else n.
func (d *decoder) at(n *yaml.Node, path string) *yaml.Node {
	if l, ok := d.lines[path]; ok {
		return &yaml.Node{Line: l}
	}
	return n
}

// isBad reports whether path or one of its parents could not be decoded. It looks up path
// and each parent, so that its cost is the depth of path whatever the number of bad paths.
func (d *decoder) isBad(path string) bool {
	for p := path; ; p = parentPath(p) {
		if d.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// decode stores n into v (a settable value), reporting problems under path.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	d.nodes++
	if d.nodes > maxNodes || d.budget > 0 && d.nodes > d.budget {
		if d.tooLarge == nil { // recorded past limit too: it says why the rest was not read
			d.tooLarge = newFieldError(d.source, n.Line, path, "", "document too large (too many nodes or aliases)")
			d.errs = append(d.errs, d.tooLarge)
		}
		return
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.typeError(n, path, "a value")
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An empty block of the file (a key whose sub-keys are all commented out) is the block
		// with nothing in it, so that its required keys are asked for: read as absent, `tls:`
		// would serve plain HTTP and `store: {redis: }` keep runs and keys in one replica's
		// memory. JSON's null (the API's bodies) and any other empty value leave the zero value.
		if !d.jsonTypes && v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return
	}
	if v.Type() == durationType {
		d.duration(n, path, v)
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode || (d.jsonTypes && n.Tag != "!!str") {
			d.typeError(n, path, "a string")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.typeError(n, path, "true or false")
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.typeError(n, path, "an integer")
			return
		}
		v.SetInt(i)
	case reflect.Slice:
		d.slice(n, path, v)
	case reflect.Pointer:
		if v.Type().Elem().Kind() != reflect.Struct {
			d.fail(n, path, "", "internal error: unsupported field type %s", v.Type())
			return
		}
		if n.Kind != yaml.MappingNode {
			d.typeError(n, path, wantMapping)
			return
		}
		p := reflect.New(v.Type().Elem())
		d.mapping(n, path, p.Elem())
		v.Set(p)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.typeError(n, path, wantMapping)
			return
		}
		d.mapping(n, path, v)
	default:
		d.fail(n, path, "", "internal error: unsupported field type %s", v.Type())
	}
}

// duration parses a Go duration string such as "1h" or "15m"; negative and zero durations are
// refused.
func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		d.typeError(n, path, `a duration such as "1h" or "15m"`)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.bad[path] = true
		d.fail(d.at(n, path), path, n.Value, "invalid duration %q (want a Go duration such as \"1h\" or \"15m\")", n.Value)
		return
	}
	if dur < 0 {
		d.bad[path] = true
		d.fail(d.at(n, path), path, n.Value, "duration %q must not be negative", n.Value)
		return
	}
	if dur == 0 {
		// Every duration's zero is its default (ApplyDefaults), so a zero written out would be
		// neither refused nor honoured: "tokens.ttl: 0s" would give tokens of the default hour.
		d.bad[path] = true
		d.fail(d.at(n, path), path, n.Value, "duration %q must be greater than zero (leave the key out for the default)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) slice(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.typeError(n, path, wantList)
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := joinIndex(path, i)
		d.lines[p] = item.Line
		d.decode(item, p, out.Index(i))
	}
	v.Set(out)
}

// mapping decodes a mapping node into the struct v, field by yaml tag.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	fields := yamlFields(v.Type(), d.keyName)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "", "mapping key must be a string, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.fail(k, joinKey(path, k.Value), k.Value, "merge keys (<<) are not supported")
			continue
		}
		p := joinKey(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			if d.jsonTypes { // a JSON body's nodes carry no lines
				d.fail(k, p, k.Value, "duplicate key")
			} else {
				d.fail(k, p, k.Value, "duplicate key (first at line %d)", first)
			}
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, p, k.Value, "unknown key")
			continue
		}
		d.lines[p] = k.Line
		d.decode(val, p, v.Field(idx))
		d.refuseWrittenZero(val, p, v.Type().Field(idx), v.Field(idx))
	}
}

// refuseWrittenZero refuses a count of 0 written out for a field tagged `zero:"default"`: its 0
// stands for the default (ApplyDefaults), so a written 0 would be neither refused nor honoured,
// as with durations.
func (d *decoder) refuseWrittenZero(n *yaml.Node, path string, f reflect.StructField, v reflect.Value) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias // a 0 written through an alias is written too
	}
	if f.Tag.Get("zero") != "default" || v.Kind() != reflect.Int || v.Int() != 0 || d.bad[path] ||
		n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return
	}
	d.bad[path] = true
	d.fail(d.at(n, path), path, n.Value, "%s must be at least 1 (leave the key out for the default)", n.Value)
}

// yamlKey is the YAML key of a struct field, and false for an unexported or skipped field.
func yamlKey(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return "", false
	case "":
		return strings.ToLower(f.Name), true
	}
	return name, true
}

// yamlFields maps the YAML key of each exported, non-skipped field of t (renamed by keyName
// when it is not nil) to its index.
func yamlFields(t reflect.Type, keyName func(string) string) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, ok := yamlKey(t.Field(i))
		if !ok {
			continue
		}
		if keyName != nil {
			name = keyName(name)
		}
		out[name] = i
	}
	return out
}

// scalarValue is the text of a scalar node, or "" for a collection.
func scalarValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// described is what describe names, already cut: cutArgs leaves it whole.
type described string

// describe names what a node holds, for "expected X, got Y" messages, a long value cut.
func describe(n *yaml.Node) described {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return described(fmt.Sprintf("%q", cutString(RedactLogins(n.Value)))) // redacted before the cut drops the '@
	case yaml.AliasNode:
		return "a dangling alias"
	default:
		return "an empty document"
	}
}
