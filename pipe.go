package goipc

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/seed-fc4a2f4b/goipc/unix"
)

// listenPipe serves a Windows named pipe (pipe://name, or ipc://id on
// Windows) through unix.ListenPipe: current-user-only security descriptor,
// connections on the runtime's IOCP, served by the goroutine engine.
// Elsewhere the error wraps ErrUnsupported (and unix.ErrUnsupported).
func listenPipe(name string, o options) ([]net.Listener, error) {
	ln, err := unix.ListenPipe(name, pipeOptions(&o))
	if err != nil {
		return nil, pipeErr(name, err)
	}
	return []net.Listener{ln}, nil
}

// dialPipe connects to a Windows named pipe through unix.DialPipe.
func dialPipe(ctx context.Context, name string) (net.Conn, error) {
	nc, err := unix.DialPipe(ctx, name)
	if err != nil {
		return nil, pipeErr(name, err)
	}
	return nc, nil
}

// pipeOptions maps server options to unix.PipeOptions.
func pipeOptions(o *options) unix.PipeOptions { return unix.PipeOptions{SDDL: o.pipeSDDL} }

// pipeErr adds goipc's ErrUnsupported to unix's, so errors.Is works with
// either package's sentinel.
func pipeErr(name string, err error) error {
	if errors.Is(err, unix.ErrUnsupported) {
		return fmt.Errorf("%w: pipe://%s: %w", ErrUnsupported, name, err)
	}
	return err
}

// ipcAddr resolves ipc://id as node-ipc does on goos.
//
// On Windows, node-ipc turns the socket path into a named pipe (strip one
// leading '/', '/' → '-', prefix `\\.\pipe\`: unix.Namespace.PipeName), so
// ipc://id becomes the pipe:// address of that pipe. A Namespace without a
// Root uses unix.DefaultPipeRoot() there ("/goipc-<user>/", after node-ipc
// 13's win32 "/node-ipc-<user>/"), since a file-system root (drive letter,
// backslashes) cannot name a pipe: ipc://world is
// `\\.\pipe\goipc-<user>-app.world`, and with WithNamespace(unix.Namespace{
// Root: "/tmp/"}) it is node-ipc 9–12's `\\.\pipe\tmp-app.world`.
//
// Elsewhere ipc://id is the Unix socket root + appspace + id
// (unix.Namespace.Path), under a root goipc creates owner-only when ns has
// no Root.
//
// goos is a parameter so that the Windows mapping is testable anywhere.
func ipcAddr(id string, ns unix.Namespace, goos string) (address, error) {
	if goos == "windows" {
		if ns.Root == "" {
			ns.Root = unix.DefaultPipeRoot()
		}
		name, err := ns.PipeName(id)
		if err != nil {
			return address{}, err
		}
		p, err := unix.PipePath(name)
		if err != nil {
			return address{}, err
		}
		return address{scheme: schemePipe, network: "pipe", addr: p}, nil
	}
	p, err := ns.Path(id)
	if err != nil {
		return address{}, err
	}
	return address{scheme: schemeIPC, network: "unix", addr: p, defaultRoot: ns.Root == ""}, nil
}
