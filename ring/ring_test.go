package ring

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
)

// pattern returns n bytes starting at seed, distinct across small offsets.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i)
	}
	return p
}

// advance moves both positions of an empty ring forward by n bytes.
func advance(t *testing.T, r *Ring, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	if err := r.Write(make([]byte, n)); err != nil {
		t.Fatalf("advance Write(%d): %v", n, err)
	}
	r.Consume(n)
	if r.Len() != 0 {
		t.Fatalf("advance: Len = %d, want 0", r.Len())
	}
}

func peekAll(r interface{ Peek() ([]byte, []byte) }) []byte {
	a, b := r.Peek()
	return append(append([]byte{}, a...), b...)
}

func checkLen(t *testing.T, r *Ring, want int) {
	t.Helper()
	if got := r.Len(); got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
	if got := r.Free(); got != r.Cap()-want {
		t.Fatalf("Free = %d, want %d", got, r.Cap()-want)
	}
	a, b := r.Peek()
	if len(a)+len(b) != want {
		t.Fatalf("Peek lengths %d+%d, want %d", len(a), len(b), want)
	}
	if len(a) == 0 && len(b) != 0 {
		t.Fatalf("Peek: empty first with non-empty second")
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{1, 1}, {2, 2}, {3, 4}, {5, 8}, {16, 16}, {17, 32}, {1000, 1024},
		{1 << 20, 1 << 20}, {1<<20 + 1, 1 << 21},
	} {
		r, err := New(tc.in)
		if err != nil {
			t.Fatalf("New(%d): %v", tc.in, err)
		}
		if r.Cap() != tc.want || r.Len() != 0 || r.Free() != tc.want {
			t.Fatalf("New(%d): Cap %d Len %d Free %d, want cap %d", tc.in, r.Cap(), r.Len(), r.Free(), tc.want)
		}
		m, err := NewMPSC(tc.in)
		if err != nil || m.Cap() != tc.want {
			t.Fatalf("NewMPSC(%d): cap %v err %v", tc.in, m, err)
		}
	}
	for _, bad := range []int{0, -1, math.MinInt, MaxCapacity + 1, math.MaxInt} {
		if r, err := New(bad); !errors.Is(err, ErrInvalidCapacity) || r != nil {
			t.Fatalf("New(%d) = %v, %v; want ErrInvalidCapacity", bad, r, err)
		}
		if m, err := NewMPSC(bad); !errors.Is(err, ErrInvalidCapacity) || m != nil {
			t.Fatalf("NewMPSC(%d) = %v, %v; want ErrInvalidCapacity", bad, m, err)
		}
	}
}

// TestWrapEveryOffset writes every length at every start offset of a
// 16-byte ring and checks Peek, partial Consume, Len and Free.
func TestWrapEveryOffset(t *testing.T) {
	const size = 16
	for start := 0; start < size; start++ {
		for n := 0; n <= size; n++ {
			for step := 1; step <= size; step++ {
				r, _ := New(size)
				advance(t, r, start)
				p := pattern(n, byte(start*17+n))
				if err := r.Write(p); err != nil {
					t.Fatalf("start %d n %d: Write: %v", start, n, err)
				}
				checkLen(t, r, n)
				a, b := r.Peek()
				wantFirst := min(n, size-start)
				if len(a) != wantFirst || len(b) != n-wantFirst {
					t.Fatalf("start %d n %d: Peek %d+%d, want %d+%d", start, n, len(a), len(b), wantFirst, n-wantFirst)
				}
				if cap(a) != len(a) || cap(b) != len(b) {
					t.Fatalf("start %d n %d: Peek caps not clipped", start, n)
				}
				// Consume in steps, checking the remaining bytes each time.
				rest := p
				for len(rest) > 0 {
					k := min(step, len(rest))
					if got := peekAll(r); !bytes.Equal(got, rest) {
						t.Fatalf("start %d n %d step %d: Peek = %v, want %v", start, n, step, got, rest)
					}
					r.Consume(k)
					rest = rest[k:]
					checkLen(t, r, len(rest))
				}
				if got := peekAll(r); len(got) != 0 {
					t.Fatalf("not empty after consuming all: %v", got)
				}
			}
		}
	}
}

// TestInterleavedStream pushes a long stream through a small ring with
// write and consume sizes that drift across the wrap point.
func TestInterleavedStream(t *testing.T) {
	r, _ := New(16)
	var in, out []byte
	seq := byte(0)
	for i := 0; i < 5000; i++ {
		n := (i * 7) % 17
		p := make([]byte, n)
		for j := range p {
			p[j] = seq
			seq++
		}
		free := r.Free()
		err := r.Write(p)
		switch {
		case n > r.Cap():
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Write(%d): %v, want ErrTooLarge", n, err)
			}
			seq -= byte(n)
		case n > free:
			if err != ErrFull {
				t.Fatalf("Write(%d) with Free %d: %v, want ErrFull", n, free, err)
			}
			seq -= byte(n)
		default:
			if err != nil {
				t.Fatalf("Write(%d): %v", n, err)
			}
			in = append(in, p...)
		}
		c := min((i*5)%13, r.Len())
		got := peekAll(r)
		out = append(out, got[:c]...)
		r.Consume(c)
	}
	out = append(out, peekAll(r)...)
	r.Consume(r.Len())
	if !bytes.Equal(in, out) {
		t.Fatalf("stream mismatch: in %d bytes, out %d bytes", len(in), len(out))
	}
}

func TestWriteParts(t *testing.T) {
	const size = 16
	for start := 0; start < size; start++ {
		for na := 0; na <= size; na++ {
			for nb := 0; na+nb <= size; nb++ {
				r, _ := New(size)
				advance(t, r, start)
				a, b := pattern(na, 1), pattern(nb, 101)
				if err := r.WriteParts(a, b); err != nil {
					t.Fatalf("WriteParts(%d,%d) at %d: %v", na, nb, start, err)
				}
				want := append(append([]byte{}, a...), b...)
				if got := peekAll(r); !bytes.Equal(got, want) {
					t.Fatalf("WriteParts(%d,%d) at %d: %v, want %v", na, nb, start, got, want)
				}
				checkLen(t, r, na+nb)
			}
		}
	}
}

func TestWritePartsAllOrNothing(t *testing.T) {
	r, _ := New(16)
	advance(t, r, 11)
	if err := r.Write(pattern(10, 0)); err != nil {
		t.Fatal(err)
	}
	before := peekAll(r)
	// a alone would fit (6 free), a+b would not.
	if err := r.WriteParts(pattern(4, 50), pattern(3, 60)); err != ErrFull {
		t.Fatalf("WriteParts: %v, want ErrFull", err)
	}
	if got := peekAll(r); !bytes.Equal(got, before) {
		t.Fatalf("ring changed after ErrFull: %v, want %v", got, before)
	}
	checkLen(t, r, 10)
	if err := r.WriteParts(pattern(16, 0), pattern(1, 0)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("WriteParts 17 bytes: %v, want ErrTooLarge", err)
	}
	checkLen(t, r, 10)
	// Exactly filling the ring works.
	if err := r.WriteParts(pattern(4, 50), pattern(2, 60)); err != nil {
		t.Fatal(err)
	}
	checkLen(t, r, 16)
	if err := r.WriteParts(nil, nil); err != nil {
		t.Fatalf("empty WriteParts on full ring: %v", err)
	}
}

func TestFullAndTooLarge(t *testing.T) {
	for start := 0; start < 16; start++ {
		for fill := 0; fill <= 16; fill++ {
			r, _ := New(16)
			advance(t, r, start)
			if err := r.Write(pattern(fill, 9)); err != nil {
				t.Fatal(err)
			}
			before := peekAll(r)
			for n := 16 - fill + 1; n <= 16; n++ {
				if err := r.Write(pattern(n, 3)); err != ErrFull {
					t.Fatalf("fill %d Write(%d): %v, want ErrFull", fill, n, err)
				}
			}
			if err := r.Write(pattern(17, 3)); err != ErrTooLarge {
				t.Fatalf("Write(17): %v, want ErrTooLarge", err)
			}
			if got := peekAll(r); !bytes.Equal(got, before) {
				t.Fatalf("ring changed after error")
			}
			checkLen(t, r, fill)
			if err := r.Write(nil); err != nil {
				t.Fatalf("Write(nil): %v", err)
			}
			s1, s2 := r.Space()
			if len(s1)+len(s2) != 16-fill {
				t.Fatalf("Space %d+%d with fill %d", len(s1), len(s2), fill)
			}
		}
	}
}

func TestSpaceCommitEveryOffset(t *testing.T) {
	const size = 16
	for start := 0; start < size; start++ {
		for fill := 0; fill <= size; fill++ {
			for n := 0; n <= size-fill; n++ {
				r, _ := New(size)
				advance(t, r, start)
				head := pattern(fill, 200)
				if err := r.Write(head); err != nil {
					t.Fatal(err)
				}
				a, b := r.Space()
				free := size - fill
				if len(a)+len(b) != free || cap(a) != len(a) || cap(b) != len(b) {
					t.Fatalf("start %d fill %d: Space %d+%d caps %d+%d, want %d", start, fill, len(a), len(b), cap(a), cap(b), free)
				}
				if len(a) == 0 && len(b) != 0 {
					t.Fatal("Space: empty first with non-empty second")
				}
				wantFirst := min(free, size-(start+fill)%size)
				if free == 0 {
					wantFirst = 0
				}
				if len(a) != wantFirst {
					t.Fatalf("start %d fill %d: len(first) %d, want %d", start, fill, len(a), wantFirst)
				}
				p := pattern(n, 77)
				k := copy(a, p)
				copy(b, p[k:])
				// Nothing visible before Commit.
				checkLen(t, r, fill)
				r.Commit(n)
				checkLen(t, r, fill+n)
				want := append(append([]byte{}, head...), p...)
				if got := peekAll(r); !bytes.Equal(got, want) {
					t.Fatalf("start %d fill %d n %d: %v, want %v", start, fill, n, got, want)
				}
			}
		}
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", name)
		}
	}()
	f()
}

func TestPanics(t *testing.T) {
	r, _ := New(16)
	_ = r.Write(pattern(5, 0))
	mustPanic(t, "Consume(6)", func() { r.Consume(6) })
	mustPanic(t, "Consume(-1)", func() { r.Consume(-1) })
	mustPanic(t, "Commit(12)", func() { r.Commit(12) })
	mustPanic(t, "Commit(-1)", func() { r.Commit(-1) })
	checkLen(t, r, 5)

	m, _ := NewMPSC(16)
	_ = m.Write(pattern(5, 0))
	m.Reserve()
	mustPanic(t, "MPSC Commit(12)", func() { m.Commit(12) })
	// The lock was released by the panicking Commit.
	if err := m.Write(pattern(3, 0)); err != nil {
		t.Fatal(err)
	}
	m.Reserve()
	mustPanic(t, "MPSC Commit(-1)", func() { m.Commit(-1) })
	if m.Len() != 8 {
		t.Fatalf("Len %d, want 8", m.Len())
	}
	mustPanic(t, "MPSC Consume(9)", func() { m.Consume(9) })
}

func TestReset(t *testing.T) {
	for start := 0; start < 16; start++ {
		r, _ := New(16)
		advance(t, r, start)
		_ = r.Write(pattern(start, 1))
		r.Reset()
		checkLen(t, r, 0)
		if err := r.Write(pattern(16, 2)); err != nil {
			t.Fatalf("Write after Reset: %v", err)
		}
		if got := peekAll(r); !bytes.Equal(got, pattern(16, 2)) {
			t.Fatalf("after Reset: %v", got)
		}
	}
	m, _ := NewMPSC(8)
	_ = m.Write([]byte("abc"))
	m.Reset()
	if m.Len() != 0 || m.Free() != 8 {
		t.Fatalf("MPSC Reset: Len %d Free %d", m.Len(), m.Free())
	}
}

func TestMPSCSequential(t *testing.T) {
	m, _ := NewMPSC(16)
	for start := 0; start < 16; start++ {
		m.Reset()
		if start > 0 {
			_ = m.Write(make([]byte, start))
			m.Consume(start)
		}
		if err := m.WriteParts([]byte("hd"), []byte("payload")); err != nil {
			t.Fatal(err)
		}
		a, b := m.Reserve()
		if len(a)+len(b) != 7 {
			t.Fatalf("Reserve %d+%d, want 7", len(a), len(b))
		}
		p := []byte("xyz")
		k := copy(a, p)
		copy(b, p[k:])
		m.Commit(3)
		if err := m.Write([]byte("12345")); err != ErrFull {
			t.Fatalf("Write: %v, want ErrFull", err)
		}
		if err := m.WriteParts([]byte("12"), []byte("345")); err != ErrFull {
			t.Fatal(err)
		}
		if err := m.Write(make([]byte, 17)); err != ErrTooLarge {
			t.Fatal(err)
		}
		if err := m.WriteParts(make([]byte, 9), make([]byte, 8)); err != ErrTooLarge {
			t.Fatal(err)
		}
		if err := m.Write([]byte("123")); err != nil {
			t.Fatal(err)
		}
		// Abandoned reservation.
		m.Reserve()
		m.Commit(0)
		want := "hdpayloadxyz123"
		if got := string(peekAll(m)); got != want {
			t.Fatalf("start %d: %q, want %q", start, got, want)
		}
		if m.Len() != len(want) || m.Free() != 16-len(want) {
			t.Fatalf("Len %d Free %d", m.Len(), m.Free())
		}
		m.Consume(len(want))
	}
}

func TestErrorsPrefixed(t *testing.T) {
	for _, err := range []error{ErrFull, ErrTooLarge, ErrInvalidCapacity} {
		if s := err.Error(); len(s) < 6 || s[:6] != "ring: " {
			t.Errorf("%q lacks the ring: prefix", s)
		}
	}
	_, err := New(0)
	if s := fmt.Sprint(err); s != "ring: invalid capacity: 0 (want 1..1073741824)" {
		t.Errorf("New(0) error %q", s)
	}
}
