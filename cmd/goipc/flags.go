package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// cmdFlags is one subcommand's FlagSet with the flags every subcommand
// shares: the codec and TLS flags.
type cmdFlags struct {
	fs       *flag.FlagSet
	name     string
	synopsis string
	examples string

	codec          string
	lenBytes       int
	littleEndian   bool
	lenOffset      int
	lenAdjust      int
	strip          int
	includesHeader bool
	maxFrame       byteSize
	delimiter      string
	busyPoll       time.Duration

	tls tlsFlags
}

// tlsFlags are the TLS flags, wired to the library in tls.go.
type tlsFlags struct {
	cert, key, ca, serverName string
}

// set reports whether any TLS flag was given.
func (t tlsFlags) set() bool {
	return t.cert != "" || t.key != "" || t.ca != "" || t.serverName != ""
}

// newFlags returns the FlagSet of subcommand name with the shared flags
// registered. synopsis is the usage line, examples the help's examples.
func newFlags(name, synopsis, examples string) *cmdFlags {
	f := &cmdFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, synopsis: synopsis, examples: examples}
	fs := f.fs
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.codec, "codec", "event", "wire mode: `raw|length|event|json`")
	fs.IntVar(&f.lenBytes, "len-bytes", 4, "length field size in bytes: 1, 2, 3, 4 or 8 (length and event modes)")
	fs.BoolVar(&f.littleEndian, "little-endian", false, "length field is little-endian (default big-endian)")
	fs.IntVar(&f.lenOffset, "len-offset", 0, "bytes before the length field")
	fs.IntVar(&f.lenAdjust, "len-adjust", 0, "added to the length field's value to get the frame length (may be negative)")
	fs.IntVar(&f.strip, "strip", -1, "bytes stripped from each received frame; default: the whole header; 0 keeps the header")
	fs.BoolVar(&f.includesHeader, "len-includes-header", false, "the length counts the header (offset + field) too")
	fs.Var(&f.maxFrame, "max-frame", "largest frame in `BYTES` (K/M/G suffixes; default 8M)")
	fs.StringVar(&f.delimiter, "delimiter", "", "JSON mode frame delimiter; escapes like \\f, \\n, \\x00 understood (default \\f)")
	fs.DurationVar(&f.busyPoll, "busy-poll", 0, "spin up to `DUR` for input before sleeping (Linux; costs CPU, cuts round-trip time when each end has a CPU; at most 1ms)")
	fs.StringVar(&f.tls.cert, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&f.tls.key, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&f.tls.ca, "tls-ca", "", "CA `file` (PEM); on a server it requires and verifies client certificates")
	fs.StringVar(&f.tls.serverName, "tls-server-name", "", "server name to verify (client; default: the address's host)")
	return f
}

// sharedFlags are the flags of newFlags, listed apart in the help.
var sharedFlags = map[string]bool{
	"codec": true, "len-bytes": true, "little-endian": true, "len-offset": true, "len-adjust": true,
	"strip": true, "len-includes-header": true, "max-frame": true, "delimiter": true, "busy-poll": true,
	"tls-cert": true, "tls-key": true, "tls-ca": true, "tls-server-name": true,
}

// parse parses args, allowing flags before and after positional arguments
// ("serve ADDR --echo"); everything after "--" is positional. It returns
// the positional arguments; -h prints the help to out and returns errHelp.
func (f *cmdFlags) parse(args []string, out io.Writer) ([]string, error) {
	var pos []string
	for {
		err := f.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.help(out)
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%s: %v (see 'goipc %s -h')", f.name, err, f.name)
		}
		rest := f.fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// help prints the synopsis, the command's own flags, the shared flags and
// the examples.
func (f *cmdFlags) help(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n  %s\n\nFlags:\n", f.synopsis)
	printFlags(w, f.fs, func(name string) bool { return !sharedFlags[name] })
	fmt.Fprintf(w, "\nCodec, TLS and busy-poll flags (shared by all commands):\n")
	printFlags(w, f.fs, func(name string) bool { return sharedFlags[name] })
	fmt.Fprintf(w, "\nExamples:\n%s", f.examples)
}

// printFlags prints the flags of fs that keep selects, as --name.
func printFlags(w io.Writer, fs *flag.FlagSet, keep func(string) bool) {
	fs.VisitAll(func(fl *flag.Flag) {
		if !keep(fl.Name) {
			return
		}
		typ, usage := flag.UnquoteUsage(fl)
		head := "  --" + fl.Name
		if typ != "" {
			head += " " + typ
		}
		def := ""
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" && fl.DefValue != "-1" && !strings.Contains(usage, "default") {
			def = fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s%s\n", head, usage, def)
	})
}

// isSet reports whether flag name was given on the command line.
func (f *cmdFlags) isSet(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set
}

// buildCodec turns the codec flags into a goipc.Codec, rejecting flags
// that do not apply to the chosen mode.
func (f *cmdFlags) buildCodec() (goipc.Codec, error) {
	lengthFlags := []string{"len-bytes", "little-endian", "len-offset", "len-adjust", "strip", "len-includes-header"}
	var c goipc.Codec
	switch f.codec {
	case "event", "length":
		switch f.lenBytes {
		case 1, 2, 3, 4, 8:
		default:
			return c, usagef("--len-bytes %d: want 1, 2, 3, 4 or 8", f.lenBytes)
		}
		cfg := frame.LengthFieldConfig{
			Offset:         f.lenOffset,
			Size:           f.lenBytes,
			LittleEndian:   f.littleEndian,
			Adjustment:     f.lenAdjust,
			IncludesHeader: f.includesHeader,
		}
		switch {
		case f.strip == 0:
			cfg.KeepHeader = true
		case f.strip > 0:
			cfg.Strip = f.strip
		case f.strip < -1:
			return c, usagef("--strip %d: want 0 or more", f.strip)
		}
		if f.codec == "event" {
			c = goipc.EventCodec().WithLengthField(cfg)
		} else {
			c = goipc.LengthCodec(cfg)
		}
		if f.isSet("delimiter") {
			return c, usagef("--delimiter applies to --codec json only")
		}
	case "json", "raw":
		for _, name := range lengthFlags {
			if f.isSet(name) {
				return c, usagef("--%s applies to --codec length or event only", name)
			}
		}
		if f.codec == "raw" {
			c = goipc.RawCodec()
			if f.isSet("delimiter") {
				return c, usagef("--delimiter applies to --codec json only")
			}
			break
		}
		c = goipc.JSONCodec()
		if f.isSet("delimiter") {
			d, err := unescape(f.delimiter)
			if err != nil {
				return c, usagef("--delimiter %q: %v", f.delimiter, err)
			}
			if len(d) == 0 {
				return c, usagef("--delimiter: empty")
			}
			c = c.WithDelimiter(d)
		}
	default:
		return c, usagef("--codec %q: want raw, length, event or json", f.codec)
	}
	if f.maxFrame > 0 {
		c = c.WithMaxFrame(int(f.maxFrame))
	}
	return c, nil
}

// options returns the library options of the codec and TLS flags.
func (f *cmdFlags) options(addr string) ([]goipc.Option, error) {
	c, err := f.buildCodec()
	if err != nil {
		return nil, err
	}
	opts := []goipc.Option{goipc.WithCodec(c)}
	if f.busyPoll > 0 {
		opts = append(opts, goipc.WithBusyPoll(f.busyPoll))
	}
	isTLS := strings.HasPrefix(strings.ToLower(addr), "tls://")
	if f.tls.set() || isTLS {
		if !isTLS {
			return nil, usagef("--tls-* flags need a tls:// address, not %q", addr)
		}
		o, err := tlsOption(f.tls)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// oneAddr checks that exactly one positional argument, the address, was
// given.
func (f *cmdFlags) oneAddr(pos []string) (string, error) {
	switch len(pos) {
	case 1:
		if !strings.Contains(pos[0], "://") {
			return "", usagef("bad address %q: want scheme://…, e.g. unix:///tmp/app.sock or tcp://127.0.0.1:8000", pos[0])
		}
		return pos[0], nil
	case 0:
		return "", usagef("%s: missing ADDR (usage: %s)", f.name, f.synopsis)
	}
	return "", usagef("%s: unexpected arguments %q (usage: %s)", f.name, pos[1:], f.synopsis)
}

// byteSize is a flag value in bytes with optional K, M or G suffixes
// (powers of 1024; a trailing "B" or "iB" is accepted).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set parses "4096", "64K", "8M", "1G", "64KiB".
func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// parseByteSize parses a byte count with an optional K/M/G suffix.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mul := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mul = 1 << 10
		case 'M':
			mul = 1 << 20
		case 'G':
			mul = 1 << 30
		}
		if mul != 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("bad size %q (want e.g. 4096, 64K, 8M, 1G)", s)
	}
	return n * mul, nil
}

// unescape interprets Go-style escapes in s: \f, \n, \r, \t, \0, \\,
// \xHH, \uHHHH.
func unescape(s string) ([]byte, error) {
	if !strings.Contains(s, `\`) {
		return []byte(s), nil
	}
	var out []byte
	for len(s) > 0 {
		if s[0] == '\\' && len(s) > 1 && s[1] == '0' && (len(s) == 2 || s[2] < '0' || s[2] > '7') {
			out = append(out, 0)
			s = s[2:]
			continue
		}
		r, multi, tail, err := strconv.UnquoteChar(s, 0)
		if err != nil {
			return nil, fmt.Errorf("bad escape near %q", s)
		}
		if r < 256 && !multi {
			out = append(out, byte(r))
		} else {
			out = append(out, string(r)...)
		}
		s = tail
	}
	return out, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
