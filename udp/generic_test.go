package udp

import (
	"errors"
	"testing"
	"time"
)

// TestGenericBatch runs the portable one-datagram-per-call batch code (the
// implementation on systems without sendmmsg/recvmmsg) on every OS.
func TestGenericBatch(t *testing.T) {
	a, b := pair(t, "udp4")
	out := []Message{
		{Buf: []byte("one"), Addr: b.LocalAddr()},
		{Buf: make([]byte, 500), Addr: b.LocalAddr()},
		{Buf: []byte("three"), Addr: b.LocalAddr()},
	}
	if n, err := a.writeBatchLoop(out); n != 3 || err != nil || out[1].N != 500 {
		t.Fatalf("writeBatchLoop = %d, %v", n, err)
	}
	b.SetReadDeadline(time.Now().Add(ioTimeout))
	for i, want := range []string{"one", "", "three"} {
		in := []Message{{Buf: make([]byte, 100)}, {Buf: make([]byte, 100)}}
		n, err := b.readBatchOne(in)
		if n != 1 || err != nil || in[0].Addr != a.LocalAddr() {
			t.Fatalf("readBatchOne %d = %d, %v from %v", i, n, err, in[0].Addr)
		}
		if i == 1 {
			if !in[0].Truncated || in[0].N != 100 {
				t.Fatalf("500 into 100: N=%d truncated=%v", in[0].N, in[0].Truncated)
			}
			continue
		}
		if in[0].Truncated || string(in[0].Buf[:in[0].N]) != want {
			t.Fatalf("got %q truncated=%v", in[0].Buf[:in[0].N], in[0].Truncated)
		}
	}
	a.Close()
	if n, err := a.writeBatchLoop(out); n != 0 || !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %d, %v", n, err)
	}
}
