//go:build windows

package unix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

var pipeSeq atomic.Int64

// testPipeName returns a pipe name no other test or process uses.
func testPipeName(t *testing.T) string {
	return fmt.Sprintf("goipc-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), pipeSeq.Add(1))
}

func listenTestPipe(t *testing.T, opts PipeOptions) (net.Listener, string) {
	t.Helper()
	name := testPipeName(t)
	ln, err := ListenPipe(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, name
}

func dialTestPipe(t *testing.T, name string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := DialPipe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type acceptResult struct {
	c   net.Conn
	err error
}

func acceptAsync(ln net.Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := ln.Accept()
		ch <- acceptResult{c, err}
	}()
	return ch
}

func waitAccept(t *testing.T, ch <-chan acceptResult) net.Conn {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return")
	}
	return nil
}

func TestPipeEchoRoundTrip(t *testing.T) {
	ln, name := listenTestPipe(t, PipeOptions{})
	if ln.Addr().Network() != "pipe" || ln.Addr().String() != `\\.\pipe\`+name {
		t.Fatalf("Addr = %s %s", ln.Addr().Network(), ln.Addr())
	}
	acc := acceptAsync(ln)
	cl := dialTestPipe(t, name)
	sv := waitAccept(t, acc)
	go io.Copy(sv, sv) // echo

	msg := bytes.Repeat([]byte("goipc named pipe "), 64<<10/16) // > one buffer
	errc := make(chan error, 1)
	go func() { _, err := cl.Write(msg); errc <- err }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(cl, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo mismatch")
	}
	if cl.RemoteAddr().String() != `\\.\pipe\`+name || sv.LocalAddr().Network() != "pipe" {
		t.Fatalf("addrs %v %v", cl.RemoteAddr(), sv.LocalAddr())
	}
}

// Bytes written before Close stay readable; then the reader sees io.EOF.
func TestPipeCloseDeliversThenEOF(t *testing.T) {
	ln, name := listenTestPipe(t, PipeOptions{})
	acc := acceptAsync(ln)
	cl := dialTestPipe(t, name)
	sv := waitAccept(t, acc)
	if _, err := sv.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	sv.Close()
	got, err := io.ReadAll(cl)
	if err != nil || string(got) != "last words" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	if _, err := sv.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on closed conn: %v, want net.ErrClosed", err)
	}
}

func TestPipeDefaultSecurityDescriptor(t *testing.T) {
	want, err := DefaultPipeSDDL()
	if err != nil {
		t.Fatal(err)
	}
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	sid := tu.User.Sid.String()
	if want != "D:P(A;;GA;;;"+sid+")" {
		t.Fatalf("DefaultPipeSDDL = %q", want)
	}
	ln, name := listenTestPipe(t, PipeOptions{})
	acc := acceptAsync(ln)
	cl := dialTestPipe(t, name)
	waitAccept(t, acc)
	rc, err := cl.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sd *windows.SECURITY_DESCRIPTOR
	var serr error
	if err := rc.Control(func(fd uintptr) {
		sd, serr = windows.GetSecurityInfo(windows.Handle(fd), windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	s := sd.String()
	// GA is stored mapped to the object's specific rights, so compare the
	// shape: protected, one allow ACE, for our SID only.
	if !strings.HasPrefix(s, "D:P") || strings.Count(s, "(") != 1 || !strings.Contains(s, ";"+sid+")") || !strings.Contains(s, "(A;") {
		t.Fatalf("pipe DACL = %s, want only an allow ACE for %s", s, sid)
	}
}

func TestPipeCustomSDDL(t *testing.T) {
	if _, err := ListenPipe(testPipeName(t), PipeOptions{SDDL: "not sddl"}); err == nil {
		t.Fatal("bad SDDL accepted")
	}
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	ln, name := listenTestPipe(t, PipeOptions{SDDL: "D:P(A;;GA;;;" + tu.User.Sid.String() + ")(A;;GRGW;;;AU)"})
	acc := acceptAsync(ln)
	dialTestPipe(t, name)
	waitAccept(t, acc)
}

func TestPipeAddrInUse(t *testing.T) {
	_, name := listenTestPipe(t, PipeOptions{})
	_, err := ListenPipe(name, PipeOptions{})
	if !errors.Is(err, ErrAddrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second ListenPipe: %v, want ErrAddrInUse", err)
	}
}

// While every instance is connected, DialPipe waits (ERROR_PIPE_BUSY) until
// Accept creates the next one, or until ctx ends.
func TestPipeBusyRetry(t *testing.T) {
	ln, name := listenTestPipe(t, PipeOptions{})
	// A connects to the only instance before anyone calls Accept.
	a := dialTestPipe(t, name)

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if c, err := DialPipe(short, name); !errors.Is(err, context.DeadlineExceeded) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial to busy pipe: %v, want context.DeadlineExceeded", err)
	}

	type dialResult struct {
		c   net.Conn
		err error
	}
	bch := make(chan dialResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := DialPipe(ctx, name)
		bch <- dialResult{c, err}
	}()
	select {
	case r := <-bch:
		t.Fatalf("dial to busy pipe returned early: %v %v", r.c, r.err)
	case <-time.After(150 * time.Millisecond):
	}
	sa := waitAccept(t, acceptAsync(ln)) // A; creates the next instance
	var b net.Conn
	select {
	case r := <-bch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		b = r.c
		t.Cleanup(func() { b.Close() })
	case <-time.After(5 * time.Second):
		t.Fatal("busy dial never connected")
	}
	sb := waitAccept(t, acceptAsync(ln)) // B, connected already: ERROR_PIPE_CONNECTED
	for _, p := range []struct {
		cl, sv net.Conn
		msg    string
	}{{a, sa, "to a"}, {b, sb, "to b"}} {
		if _, err := p.sv.Write([]byte(p.msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(p.msg))
		if _, err := io.ReadFull(p.cl, buf); err != nil || string(buf) != p.msg {
			t.Fatalf("read %q, %v; want %q", buf, err, p.msg)
		}
	}
}

func TestPipeCloseInterruptsAccept(t *testing.T) {
	ln, name := listenTestPipe(t, PipeOptions{})
	acc := acceptAsync(ln)
	time.Sleep(50 * time.Millisecond)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-acc:
		if !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, %v; want net.ErrClosed", r.c, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt Accept")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on closed listener: %v", err)
	}
	if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	// The name is gone: dialing fails at once with not-exist.
	if _, err := DialPipe(context.Background(), name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dial after Close: %v, want fs.ErrNotExist", err)
	}
	// And it can be listened on again.
	ln2, err := ListenPipe(name, PipeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
}

func TestPipeDeadline(t *testing.T) {
	ln, name := listenTestPipe(t, PipeOptions{})
	acc := acceptAsync(ln)
	cl := dialTestPipe(t, name)
	waitAccept(t, acc)
	if err := cl.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatalf("SetReadDeadline: %v (handle not on the runtime IOCP?)", err)
	}
	start := time.Now()
	_, err := cl.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past deadline: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("deadline fired after %v", d)
	}
}

func TestDialPipeMissing(t *testing.T) {
	_, err := DialPipe(context.Background(), testPipeName(t))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dial to missing pipe: %v, want fs.ErrNotExist", err)
	}
}
