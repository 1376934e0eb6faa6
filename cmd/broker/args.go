package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// parseInterleaved parses args whose positional arguments may come before, between or after
// the flags (broker get stacks vpc -o json, broker get -o json stacks vpc), and returns the
// positional ones; more than maxArgs is a usage error.
func parseInterleaved(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fs.Usage()
				return nil, err
			}
			return nil, usagef("%s", withheldArgs(err.Error(), args))
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > maxArgs {
		return nil, usagef("unexpected argument %s", shownArg(positional[maxArgs]))
	}
	if err := refuseEmptyValues(fs); err != nil {
		return nil, err
	}
	return positional, nil
}

// refuseEmptyValues makes a flag given with an empty value (--config "", -f=) a usage error.
// Only leaving a flag out asks for its default (--config: $BROKER_CONFIG, else the embedded
// demo configuration); an empty value, as from a variable that expanded to nothing, is told
// apart from that (fs.Visit sees only the flags given) and never taken for it.
func refuseEmptyValues(fs *flag.FlagSet) error {
	var empty *flag.Flag
	fs.Visit(func(f *flag.Flag) {
		if empty == nil && f.Value.String() == "" {
			empty = f
		}
	})
	if empty == nil {
		return nil
	}
	return usagef("%s was given an empty value: give it one, or leave the flag out for its default", flagName(empty.Name))
}

// flagName is how messages write the flag called name: -f for one letter, --config otherwise.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// maxShownArg is the longest argument an error message repeats: names are short, and a longer
// string that passes for one (40 hexadecimal digits) may be a token.
const maxShownArg = 24

// nameLike reports whether arg looks like a name (a provider, a kind, an id: see
// config.IDPattern) short enough to repeat in an error message.
func nameLike(arg string) bool {
	return len(arg) <= maxShownArg && config.IDPattern.MatchString(arg)
}

// shownArg quotes an argument for an error message when it looks like a name (nameLike), and
// otherwise says only how long it is: anything else may be a secret pasted in the wrong place
// (an API key or run token, a JWT, a cloud key), which CI logs would keep.
func shownArg(arg string) string {
	if nameLike(arg) {
		return strconv.Quote(arg)
	}
	return fmt.Sprintf("of %d characters (not repeated: it may be a secret)", len(arg))
}

// checkID refuses, before any request, an argument that names an object and is not an id
// (config.IDPattern). It is not repeated, since it may be a secret pasted in the wrong place,
// which the answer's error and the server's request log would otherwise repeat.
func checkID(what, id string) error {
	if config.IDPattern.MatchString(id) {
		return nil
	}
	return usagef("%s %s", what, notAnID(id))
}

// notAnID says that id breaks the id rule (config.IDPattern), without repeating it unless it
// looks like a name (see shownArg).
func notAnID(id string) string {
	return shownArg(id) + " is not an id (lower case letters, digits and '-', at most 63 characters)"
}

// checkOptionalID is checkID for an argument that may be left out ("").
func checkOptionalID(what, id string) error {
	if id == "" {
		return nil
	}
	return checkID(what, id)
}

// withheldArgs returns msg, a flag parser's error about args, with every argument, every
// value given as --flag=value and every flag's name that does not look like a name (see
// nameLike) taken out: the parser quotes a flag it does not know and a value it cannot read,
// and names an unknown flag its own way ("-name", one dash, without its value). One of fewer
// than 8 characters stays.
func withheldArgs(msg string, args []string) string {
	for _, a := range args {
		parts := []string{a}
		if _, v, ok := strings.Cut(a, "="); ok {
			parts = append(parts, v)
		}
		if strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			parts = append(parts, name)
		}
		for _, p := range parts {
			if len(p) < 8 || nameLike(strings.TrimLeft(p, "-")) {
				continue
			}
			withheld := fmt.Sprintf("(an argument of %d characters, not repeated: it may be a secret)", len(p))
			msg = strings.ReplaceAll(strings.ReplaceAll(msg, strconv.Quote(p), withheld), p, withheld)
		}
	}
	return msg
}
