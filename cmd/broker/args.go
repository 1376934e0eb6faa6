package main

import (
	"errors"
	"flag"
	"io"
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
			return nil, usagef("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > maxArgs {
		return nil, usagef("unexpected argument %q", positional[maxArgs])
	}
	return positional, nil
}
