package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// runVersion is `goipc version`: the module version (or "(devel)"), the VCS
// revision when the build recorded one, the Go version and the platform.
func runVersion(ctx context.Context, e *env, args []string) error {
	f := newFlags("version", "goipc version", "  goipc version\n")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version: unexpected arguments %q", pos)
	}
	fmt.Fprintln(e.stdout, versionString())
	return nil
}

// versionString describes this build in one line.
func versionString() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.modified":
				if s.Value == "true" && rev != "" {
					rev += "+dirty"
				}
			}
		}
	}
	s := "goipc " + v
	if rev != "" {
		s += " " + rev
	}
	return fmt.Sprintf("%s %s %s/%s", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
