//go:build !race

package ring

import "testing"

func assertNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf("%s: %v allocs/op, want 0", name, n)
	}
}

func TestAllocs(t *testing.T) {
	r, _ := New(1 << 12)
	m, _ := NewMPSC(1 << 12)
	frame := make([]byte, 100)
	hdr, payload := frame[:4], frame[4:]

	drain := func() {
		a, b := r.Peek()
		r.Consume(len(a) + len(b))
	}
	mdrain := func() {
		a, b := m.Peek()
		m.Consume(len(a) + len(b))
	}

	assertNoAllocs(t, "Ring.Write", func() {
		if r.Write(frame) != nil {
			t.Fatal("Write failed")
		}
		drain()
	})
	assertNoAllocs(t, "Ring.WriteParts", func() {
		if r.WriteParts(hdr, payload) != nil {
			t.Fatal("WriteParts failed")
		}
		drain()
	})
	assertNoAllocs(t, "Ring.Peek+Consume", func() {
		_ = r.Write(frame)
		a, b := r.Peek()
		r.Consume(len(a))
		r.Consume(len(b))
	})
	assertNoAllocs(t, "Ring.Space+Commit", func() {
		a, b := r.Space()
		k := copy(a, frame)
		copy(b, frame[k:])
		r.Commit(len(frame))
		drain()
	})
	assertNoAllocs(t, "Ring.Write ErrFull", func() {
		_ = r.Write(make([]byte, 0, 1)[:0])
		for r.Write(frame) == nil {
		}
		drain()
	})
	assertNoAllocs(t, "Ring.Len/Free/Reset", func() {
		_ = r.Write(frame)
		_ = r.Len() + r.Free() + r.Cap()
		r.Reset()
	})
	assertNoAllocs(t, "MPSC.Write", func() {
		if m.Write(frame) != nil {
			t.Fatal("Write failed")
		}
		mdrain()
	})
	assertNoAllocs(t, "MPSC.WriteParts", func() {
		if m.WriteParts(hdr, payload) != nil {
			t.Fatal("WriteParts failed")
		}
		mdrain()
	})
	assertNoAllocs(t, "MPSC.Reserve+Commit", func() {
		a, b := m.Reserve()
		k := copy(a, frame)
		copy(b, frame[k:])
		m.Commit(len(frame))
		mdrain()
	})
}
