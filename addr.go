package goipc

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/seed-fc4a2f4b/goipc/unix"
)

// Address schemes.
const (
	schemeUnix = "unix"
	schemeIPC  = "ipc"
	schemeTCP  = "tcp"
	schemeUDP  = "udp"
	schemeTLS  = "tls"
	schemePipe = "pipe"
)

// address is a parsed goipc address.
type address struct {
	scheme  string // unix, ipc, tcp, udp, tls, pipe
	network string // net package network: unix, tcp, udp4, udp6
	addr    string // socket path, "@name", or host:port
	// defaultRoot is set for ipc:// addresses under goipc's default socket
	// root, which goipc creates and checks (0700, owner-only).
	defaultRoot bool
}

func (a address) String() string {
	switch a.scheme {
	case schemeUnix, schemeIPC:
		return "unix://" + a.addr // unix:///abs/path or unix://@name
	}
	return a.scheme + "://" + a.addr
}

// parseAddr parses the address syntax every goipc API takes:
//
//	unix:///abs/path     a Unix socket file
//	unix://@name         a Linux abstract socket
//	ipc://id             node-ipc's rule: socket root + appspace + id; on
//	                     Windows node-ipc's named pipe for that path
//	                     (\\.\pipe\goipc-<user>-app.id by default, see ipcAddr)
//	tcp://host:port      TCP, IPv4 or IPv6 ([::1]:port)
//	udp://host:port      UDP; udp6 for an IPv6 literal, else udp4
//	tls://host:port      TLS over TCP
//	pipe://name          a Windows named pipe
func parseAddr(s string, ns unix.Namespace) (address, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return address{}, fmt.Errorf("%w %q: want scheme://…, e.g. unix:///run/app.sock or tcp://127.0.0.1:8000", ErrBadAddress, s)
	}
	a := address{scheme: strings.ToLower(scheme)}
	switch a.scheme {
	case schemeUnix:
		a.network = "unix"
		switch {
		case strings.HasPrefix(rest, "@") && len(rest) > 1:
			a.addr = rest
		case filepath.IsAbs(rest) || (runtime.GOOS == "windows" && strings.HasPrefix(rest, "/")):
			a.addr = filepath.Clean(rest)
		default:
			return address{}, fmt.Errorf("%w %q: a unix address needs an absolute path (unix:///path) or an abstract name (unix://@name)", ErrBadAddress, s)
		}
	case schemeIPC:
		// Unix socket root + appspace + id; on Windows the named pipe
		// node-ipc maps that path to (see ipcAddr).
		ia, err := ipcAddr(rest, ns, runtime.GOOS)
		if err != nil {
			return address{}, fmt.Errorf("%w %q: %w", ErrBadAddress, s, err)
		}
		a = ia
	case schemeTCP, schemeTLS:
		a.network = "tcp"
		if err := checkHostPort(rest); err != nil {
			return address{}, fmt.Errorf("%w %q: %w", ErrBadAddress, s, err)
		}
		a.addr = rest
	case schemeUDP:
		if err := checkHostPort(rest); err != nil {
			return address{}, fmt.Errorf("%w %q: %w", ErrBadAddress, s, err)
		}
		a.network = "udp4"
		host, _, _ := net.SplitHostPort(rest)
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() && !ip.Is4In6() {
			a.network = "udp6"
		}
		a.addr = rest
	case schemePipe:
		p, err := unix.PipePath(rest)
		if err != nil {
			return address{}, fmt.Errorf("%w %q: %w", ErrBadAddress, s, err)
		}
		a.network = "pipe"
		a.addr = p
	default:
		return address{}, fmt.Errorf("%w %q: unknown scheme %q (want unix, ipc, tcp, udp, tls or pipe)", ErrBadAddress, s, scheme)
	}
	return a, nil
}

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if port == "" {
		return fmt.Errorf("missing port")
	}
	return nil
}
