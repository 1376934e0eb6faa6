package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func runVersion(_ context.Context, e env, args []string) error {
	fs := newFlags("version", e)
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "broker %s\n", versionString())
	return nil
}
