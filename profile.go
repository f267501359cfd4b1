package goipc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// Profile is a security profile, in the manner of node-ipc's: a named set
// of limits and checks. docs/SECURITY.md says what each guarantees and
// what it does not.
type Profile uint8

const (
	// ProfileDefault is for local, trusted peers: every limit at its
	// default (8 MiB frames, 16 MiB pending per connection, 30 s partial
	// frames, …), Unix socket roots created 0700 and sockets 0600, stale
	// sockets reclaimed but no other file ever removed.
	ProfileDefault Profile = iota
	// ProfileGuarded is for peers that may misbehave: tighter limits
	// (1 MiB frames, 4 MiB pending, 10 s partial frames, 5 s handshakes,
	// 1024 connections, 128-byte event names, a 256-message outbox), node-ipc's
	// lifecycle event names refused from the wire, and an event allow-list
	// enforced when one is given (WithAllowedEvents). A peer that breaks a
	// rule loses its connection; the others carry on.
	ProfileGuarded
	// ProfileAssured is for peers that must prove who they are: everything
	// in ProfileGuarded, plus mutual TLS required on network transports
	// (tcp:// and udp:// are refused; tls:// needs a client CA on the
	// server and a CA and a client certificate on the client), an
	// owner-only directory around every Unix socket, and a peer-credential
	// allow-list on Unix sockets (WithPeerCredentials; by default only the
	// server's own uid may connect).
	ProfileAssured
)

// String returns "default", "guarded" or "assured".
func (p Profile) String() string {
	switch p {
	case ProfileDefault:
		return "default"
	case ProfileGuarded:
		return "guarded"
	case ProfileAssured:
		return "assured"
	}
	return fmt.Sprintf("profile(%d)", uint8(p))
}

// Errors of the profile checks.
var (
	// ErrEventNotAllowed closes a connection that sent an event outside
	// the allow-list.
	ErrEventNotAllowed = errors.New("goipc: event not allowed")
	// ErrPeerNotAllowed refuses a Unix socket peer whose credentials are
	// not on the allow-list.
	ErrPeerNotAllowed = errors.New("goipc: peer credentials not allowed")
	// ErrProfile reports a configuration the security profile forbids,
	// such as plain tcp:// under ProfileAssured.
	ErrProfile = errors.New("goipc: not allowed by the security profile")
)

// WithProfile selects a security profile. Its limits apply where no
// option set them explicitly; options given with it still win.
func WithProfile(p Profile) Option { return func(o *options) { o.profile = p } }

// WithAllowedEvents makes a server (or client) accept only these event
// names from the wire; any other event closes the connection with
// ErrEventNotAllowed. Replies to this end's own requests are always
// accepted.
func WithAllowedEvents(names ...string) Option {
	return func(o *options) { o.allowed = append(o.allowed, names...) }
}

// WithPeerCredentials admits Unix socket peers whose uid is in uids or
// whose gid is in gids (checked with SO_PEERCRED / LOCAL_PEERCRED when the
// connection is accepted); others are closed at once. Where the system
// offers no peer credentials (NetBSD, OpenBSD, DragonFly) every peer is
// refused. Under
// ProfileAssured the default is the server's own uid only.
func WithPeerCredentials(uids, gids []uint32) Option {
	return func(o *options) {
		o.peerUIDs = append(o.peerUIDs, uids...)
		o.peerGIDs = append(o.peerGIDs, gids...)
		o.peerSet = true
	}
}

// WithMaxEventName bounds the length of event names accepted from the
// wire (bytes; the binary envelope's own limit is 255).
func WithMaxEventName(n int) Option { return func(o *options) { o.maxEventName = n } }

// applyProfile fills in what the profile implies for options left unset.
func (o *options) applyProfile() {
	if o.profile == ProfileDefault {
		return
	}
	setDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	if o.codec.maxFrame == 0 && o.codec.length.MaxFrame == 0 {
		o.codec.maxFrame = 1 << 20
	}
	if o.policy != Block { // whose default, 1 MiB, is tighter already
		setInt(&o.maxPending, 4<<20)
	}
	setDur(&o.partialTimeout, 10*time.Second)
	setDur(&o.tls.HandshakeTimeout, 5*time.Second)
	setInt(&o.maxConns, 1024)
	setInt(&o.maxEventName, 128)
	setInt(&o.maxPeers, 256)
	if !o.outboxSet {
		o.outboxMsgs, o.outboxBytes = 256, 1<<20
	}
	o.rejectReserved = true
	if o.profile == ProfileAssured && !o.peerSet {
		o.peerUIDs = []uint32{uint32(os.Geteuid())}
		o.peerSet = true
	}
}

// checkServer enforces the profile's transport rules on a server address.
func (o *options) checkServer(a address) error {
	if o.profile != ProfileAssured {
		return nil
	}
	switch a.scheme {
	case schemeTCP, schemeUDP:
		return fmt.Errorf("%w: %s is %s:// without TLS; the assured profile needs tls:// with a client CA (mutual TLS)", ErrProfile, a, a.scheme)
	case schemeTLS:
		if o.tls.CAFile == "" && (o.tls.TLS == nil || o.tls.TLS.ClientCAs == nil) {
			return fmt.Errorf("%w: the assured profile needs a client CA on a tls:// server (mutual TLS)", ErrProfile)
		}
	}
	return nil
}

// checkClient enforces the profile's transport rules on a client address.
func (o *options) checkClient(a address) error {
	if o.profile != ProfileAssured {
		return nil
	}
	switch a.scheme {
	case schemeTCP, schemeUDP:
		return fmt.Errorf("%w: %s is %s:// without TLS; the assured profile needs tls:// with a client certificate", ErrProfile, a, a.scheme)
	case schemeTLS:
		if o.tls.InsecureSkipVerifyDevelopmentOnly {
			return fmt.Errorf("%w: the assured profile verifies the server's certificate", ErrProfile)
		}
		if o.tls.CertFile == "" && (o.tls.TLS == nil || len(o.tls.TLS.Certificates) == 0) {
			return fmt.Errorf("%w: the assured profile needs a client certificate (mutual TLS)", ErrProfile)
		}
	}
	return nil
}

// allowPeer checks a Unix socket peer's credentials against the
// allow-list. Connections of other transports pass.
func (o *options) allowPeer(nc net.Conn) error {
	if !o.peerSet {
		return nil
	}
	if _, ok := nc.(*net.UnixConn); !ok {
		return nil
	}
	cred, err := unix.PeerCredConn(nc)
	if err != nil {
		return fmt.Errorf("%w: cannot read peer credentials: %w", ErrPeerNotAllowed, err)
	}
	if slices.Contains(o.peerUIDs, cred.UID) || slices.Contains(o.peerGIDs, cred.GID) {
		return nil
	}
	return ErrPeerNotAllowed
}

// reservedNames are the lifecycle names guarded profiles refuse from the
// wire (node-ipc's).
var reservedNames = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, n := range frame.ReservedLifecycle {
		m[n] = struct{}{}
	}
	return m
}()

// checkEvent applies the name rules to an incoming event name.
func (ep *endpoint) checkEvent(name []byte) error {
	if ep.maxName > 0 && len(name) > ep.maxName {
		return fmt.Errorf("%w: event name of %d bytes (limit %d)", frame.ErrNameTooLong, len(name), ep.maxName)
	}
	if ep.opts.rejectReserved {
		if _, bad := reservedNames[string(name)]; bad {
			return fmt.Errorf("%w: %q arrived from the wire", frame.ErrReservedType, name)
		}
	}
	if ep.allowed != nil {
		if _, ok := ep.allowed[string(name)]; !ok {
			return ErrEventNotAllowed
		}
	}
	return nil
}
