//go:build linux

package udp

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchState holds the sendmmsg/recvmmsg arrays, preallocated per Conn and
// grown (once, up to MaxBatch) to the largest batch seen, and the RawConn
// callbacks, stored as method values at construction so that passing them
// to RawConn.Read/Write does not allocate.
//
// golang.org/x/sys v0.49.0 defines unix.Mmsghdr but no sendmmsg/recvmmsg
// wrapper, so the calls go through unix.Syscall6 with SYS_SENDMMSG and
// SYS_RECVMMSG, driven by syscall.RawConn so that the Go netpoller waits
// on EAGAIN (and deadlines and Close apply).
type batchState struct {
	rc syscall.RawConn

	wmu   sync.Mutex // guards the w* fields
	whdr  []unix.Mmsghdr
	wiov  []unix.Iovec
	wsa   []unix.RawSockaddrInet6 // also holds RawSockaddrInet4 on udp4
	wn    int                     // messages in the current call
	wdone int                     // messages sent so far in the current call
	werr  syscall.Errno
	wfn   func(fd uintptr) bool

	rmu  sync.Mutex // guards the r* fields
	rhdr []unix.Mmsghdr
	riov []unix.Iovec
	rsa  []unix.RawSockaddrInet6
	rn   int
	rgot int
	rerr syscall.Errno
	rfn  func(fd uintptr) bool
}

func (b *batchState) init(c *Conn, n int) error {
	rc, err := c.uc.SyscallConn()
	if err != nil {
		return err
	}
	b.rc = rc
	b.wfn = b.sendmmsg
	b.rfn = b.recvmmsg
	b.growW(n)
	b.growR(n)
	return nil
}

func (b *batchState) growW(n int) {
	if n <= len(b.whdr) {
		return
	}
	b.whdr = make([]unix.Mmsghdr, n)
	b.wiov = make([]unix.Iovec, n)
	b.wsa = make([]unix.RawSockaddrInet6, n)
}

func (b *batchState) growR(n int) {
	if n <= len(b.rhdr) {
		return
	}
	b.rhdr = make([]unix.Mmsghdr, n)
	b.riov = make([]unix.Iovec, n)
	b.rsa = make([]unix.RawSockaddrInet6, n)
}

// sendmmsg is the RawConn.Write callback: it sends whdr[wdone:wn],
// returning false (wait for writability) on EAGAIN.
func (b *batchState) sendmmsg(fd uintptr) bool {
	for b.wdone < b.wn {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd,
			uintptr(unsafe.Pointer(&b.whdr[b.wdone])), uintptr(b.wn-b.wdone), 0, 0, 0)
		switch e {
		case 0:
			b.wdone += int(r)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			b.werr = e
			return true
		}
	}
	return true
}

// recvmmsg is the RawConn.Read callback. MSG_TRUNC makes the kernel report
// each datagram's real length in msg_len, so truncation is measurable.
func (b *batchState) recvmmsg(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(&b.rhdr[0])), uintptr(b.rn), unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			b.rgot = int(r)
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			b.rerr = e
			return true
		}
	}
}

// putSockaddr writes to into sa and returns the sockaddr length. to has
// been checked by Conn.check.
func putSockaddr(sa *unix.RawSockaddrInet6, to netip.AddrPort, is6 bool) uint32 {
	a, port := to.Addr(), to.Port()
	if !is6 {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
	if z := a.Zone(); z != "" {
		idx, _ := zoneIndex(z) // validated by check
		sa.Scope_id = idx
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return unix.SizeofSockaddrInet6
}

// getSockaddr decodes a received source address.
func getSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if a.Is4In6() {
			return netip.AddrPortFrom(a.Unmap(), port)
		}
		if sa.Scope_id != 0 {
			a = a.WithZone(zoneName(sa.Scope_id))
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}

// zoneName names interface index idx (link-local senders only; allocates).
func zoneName(idx uint32) string {
	if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(idx), 10)
}

// writeBatch sends already-checked messages with sendmmsg, MaxBatch at a
// time. It returns the number sent; on error msgs[sent] is the one that
// failed.
func (c *Conn) writeBatch(msgs []Message) (int, error) {
	b := &c.batch
	b.wmu.Lock()
	defer b.wmu.Unlock()
	sent := 0
	for sent < len(msgs) {
		chunk := msgs[sent:]
		if len(chunk) > MaxBatch {
			chunk = chunk[:MaxBatch]
		}
		b.growW(len(chunk))
		for i := range chunk {
			m := &chunk[i]
			iov := &b.wiov[i]
			iov.Base = unsafe.SliceData(m.Buf)
			iov.SetLen(len(m.Buf))
			h := &b.whdr[i]
			h.Hdr = unix.Msghdr{
				Name:    (*byte)(unsafe.Pointer(&b.wsa[i])),
				Namelen: putSockaddr(&b.wsa[i], m.Addr, c.is6),
				Iov:     iov,
			}
			h.Hdr.SetIovlen(1)
			h.Len = 0
		}
		b.wn, b.wdone, b.werr = len(chunk), 0, 0
		err := b.rc.Write(b.wfn)
		done := b.wdone
		for i := range chunk {
			b.wiov[i].Base = nil // do not keep the caller's buffers alive
			if i < done {
				chunk[i].N = len(chunk[i].Buf)
			}
		}
		sent += done
		if err != nil {
			return sent, &net.OpError{Op: "sendmmsg", Net: c.network, Err: err}
		}
		if b.werr != 0 {
			return sent, &net.OpError{Op: "sendmmsg", Net: c.network, Err: os.NewSyscallError("sendmmsg", b.werr)}
		}
	}
	return sent, nil
}

// readBatch fills msgs (1 <= len(msgs) <= MaxBatch) with one recvmmsg. For a
// truncated datagram N is its real length (may exceed len(Buf)); ReadBatch
// clamps it.
func (c *Conn) readBatch(msgs []Message) (int, error) {
	b := &c.batch
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.growR(len(msgs))
	for i := range msgs {
		iov := &b.riov[i]
		iov.Base = unsafe.SliceData(msgs[i].Buf)
		iov.SetLen(len(msgs[i].Buf))
		h := &b.rhdr[i]
		h.Hdr = unix.Msghdr{
			Name:    (*byte)(unsafe.Pointer(&b.rsa[i])),
			Namelen: unix.SizeofSockaddrInet6,
			Iov:     iov,
		}
		h.Hdr.SetIovlen(1)
		h.Len = 0
	}
	b.rn, b.rgot, b.rerr = len(msgs), 0, 0
	err := b.rc.Read(b.rfn)
	for i := range msgs {
		b.riov[i].Base = nil
	}
	if err != nil {
		return 0, &net.OpError{Op: "recvmmsg", Net: c.network, Err: err}
	}
	if b.rerr != 0 {
		return 0, &net.OpError{Op: "recvmmsg", Net: c.network, Err: os.NewSyscallError("recvmmsg", b.rerr)}
	}
	for i := 0; i < b.rgot; i++ {
		m, h := &msgs[i], &b.rhdr[i]
		m.N = int(h.Len)
		m.Truncated = h.Hdr.Flags&unix.MSG_TRUNC != 0 || m.N > len(m.Buf)
		m.Addr = getSockaddr(&b.rsa[i])
	}
	return b.rgot, nil
}
