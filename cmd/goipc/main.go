// Command goipc runs goipc servers and clients from the shell: to try goipc
// in the first minute, to debug a C, embedded or node-ipc peer, and to
// measure a machine.
//
//	goipc serve ADDR [--echo | --broadcast-stdin] [--max-conns N]
//	goipc connect ADDR            JSON lines (event, json) or lines (raw, length) on stdin/stdout
//	goipc send ADDR (--data STR | --hex HEX | --file F) [--type T] [--expect-reply]
//	goipc listen ADDR             print every message with a timestamp, size and decoded view
//	goipc bench                   measure round trips (a table, or --json)
//	goipc version
//
// Addresses use the library's syntax: unix:///path, unix://@name, ipc://id,
// tcp://host:port, tls://host:port, udp://host:port (pipe://name on
// Windows). Every subcommand takes the codec flags (--codec, --len-bytes,
// …) and the TLS flags; run `goipc SUBCOMMAND -h` for its flags and
// examples.
//
// Exit codes: 0 success, 1 runtime failure (connection refused, timeout,
// …), 2 usage error (bad flags, bad address, invalid flag combination).
// Error messages go to stderr and start with "goipc: ".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand reads and writes; tests and bench's child
// processes share the real one.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

var commands = []command{
	{"serve", "run a server: print, echo or broadcast stdin", runServe},
	{"connect", "interactive/pipe client: stdin lines out, received messages to stdout", runConnect},
	{"send", "send one message, optionally wait for one reply", runSend},
	{"listen", "print every message received (binds for udp://)", runListen},
	{"bench", "measure round trips per second, throughput, latency and allocations", runBench},
	{"version", "print the version", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the command line args (without the program name) and
// returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			err := c.run(ctx, e, args[1:])
			return report(e.stderr, err)
		}
	}
	fmt.Fprintf(e.stderr, "goipc: unknown command %q\n", name)
	usage(e.stderr)
	return exitUsage
}

// usage prints the list of subcommands.
func usage(w io.Writer) {
	fmt.Fprintf(w, "goipc: fast IPC over Unix sockets, TCP, TLS and UDP.\n\nUsage:\n  goipc COMMAND [ADDR] [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Addresses: unix:///path, unix://@name, ipc://id, tcp://host:port, tls://host:port,
udp://host:port (pipe://name on Windows).

Examples:
  goipc bench                                   # a results table in a few seconds
  goipc serve unix:///tmp/demo.sock --echo
  goipc send unix:///tmp/demo.sock --data hello --expect-reply

Run 'goipc COMMAND -h' for a command's flags and more examples.
`)
}

// errHelp reports that -h was given and help was printed: exit 0.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// report prints err (if any) and returns its exit code.
func report(w io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(w, errText(err))
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isUsage reports whether err is the user's mistake rather than a failure
// at run time: bad flags, a bad address, an impossible codec configuration.
func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || errors.Is(err, goipc.ErrBadAddress) || errors.Is(err, frame.ErrInvalidConfig)
}

// errText formats err as one line starting with "goipc: ", dropping the
// "goipc: " prefixes of wrapped library errors.
func errText(err error) string {
	return "goipc: " + strings.ReplaceAll(err.Error(), "goipc: ", "")
}
