//go:build !race

package main

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestHandleAllocs: decoding and checking a record allocates nothing.
func TestHandleAllocs(t *testing.T) {
	s := &sensorConn{}
	var b []byte
	allocs := testing.AllocsPerRun(1000, func() {
		seq := s.stats.LastSeq + 1
		b = binary.LittleEndian.AppendUint32(b[:0], seq)
		b = binary.LittleEndian.AppendUint64(b, uint64(seq)*1000)
		for _, f := range []float32{float32(seq) * 0.5, -float32(seq), 1 / float32(seq)} {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		s.handle(b)
	})
	if allocs != 0 {
		t.Fatalf("handle allocates %v times per record", allocs)
	}
	if s.stats.Errors != 0 || s.stats.Records < 1000 {
		t.Fatalf("stats %+v", s.stats)
	}
	// bad frames don't allocate either
	allocs = testing.AllocsPerRun(100, func() { s.handle(b[:5]) })
	if allocs != 0 {
		t.Fatalf("handle of a bad frame allocates %v times", allocs)
	}
}
