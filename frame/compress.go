package frame

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// DefaultCompressThreshold is the payload size below which a Compressor
// sends payloads uncompressed when no threshold is configured.
const DefaultCompressThreshold = 512

// Compressor writes envelopes whose payloads are compressed with s2 or
// zstd when that pays: payloads shorter than the threshold, or that don't
// shrink, go uncompressed with the compression bits clear.
//
// A Compressor is safe for concurrent use. With zstd, concurrent calls
// share one encoder and run one at a time; give each event loop its own
// Compressor to compress in parallel. After warm-up it does not allocate
// when dst has room (s2 always; zstd for payloads within its window).
type Compressor struct {
	algo      Compression
	threshold int
	zenc      *zstd.Encoder
}

// NewCompressor returns a Compressor using algo (S2 or Zstd) for payloads
// of at least threshold bytes; threshold 0 means DefaultCompressThreshold.
func NewCompressor(algo Compression, threshold int) (*Compressor, error) {
	if threshold < 0 {
		return nil, configErr("negative compression threshold")
	}
	if threshold == 0 {
		threshold = DefaultCompressThreshold
	}
	c := &Compressor{algo: algo, threshold: threshold}
	switch algo {
	case S2:
	case Zstd:
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			// Single-segment frames declare their content size instead of
			// a window, so a receiver's memory bound is the payload size.
			zstd.WithSingleSegment(true),
			zstd.WithZeroFrames(true))
		if err != nil {
			return nil, configErr("zstd encoder: " + err.Error())
		}
		c.zenc = enc
	default:
		return nil, configErr("compression algorithm " + algo.String())
	}
	return c, nil
}

// Algorithm returns the configured algorithm.
func (c *Compressor) Algorithm() Compression { return c.algo }

// AppendEvent appends an envelope like the package-level AppendEvent, but
// compresses data when it is at least the threshold long and compression
// makes it smaller. A nil Compressor never compresses. flags must not carry
// compression bits: the Compressor sets them.
func (c *Compressor) AppendEvent(dst []byte, name string, flags Flags, id uint32, data []byte) ([]byte, error) {
	return c.AppendEventSeq(dst, name, flags, id, 0, data)
}

// AppendEventSeq is AppendEvent with a sequence number, written when flags
// has FlagSeq.
func (c *Compressor) AppendEventSeq(dst []byte, name string, flags Flags, id uint32, seq uint64, data []byte) ([]byte, error) {
	if c == nil || len(data) < c.threshold || uint64(len(data)) > math.MaxUint32 || flags&FlagControl != 0 {
		return AppendEventSeq(dst, name, flags, id, seq, data)
	}
	if err := checkOutgoing(name, flags); err != nil {
		return dst, err
	}
	if flags.Compression() != None {
		return dst, ErrBadFlags
	}
	mark := len(dst)
	dst = appendEventHeader(dst, name, flags|Flags(c.algo), id, seq)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	start := len(dst)
	switch c.algo {
	case S2:
		need := s2.MaxEncodedLen(len(data))
		if need < 0 {
			return AppendEventSeq(dst[:mark], name, flags, id, seq, data)
		}
		dst = grow(dst, need)
		enc := s2.Encode(dst[start:start+need], data)
		dst = dst[:start+len(enc)]
	case Zstd:
		dst = c.zenc.EncodeAll(data, dst)
	}
	if len(dst)-start+4 >= len(data) {
		// Compression did not pay: write the payload as it is.
		dst = appendEventHeader(dst[:mark], name, flags, id, seq)
		return append(dst, data...), nil
	}
	return dst, nil
}

// grow returns b with room for n more bytes, extended to that length.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n+len(b)/4)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// Close releases the zstd encoder, if any.
func (c *Compressor) Close() error {
	if c != nil && c.zenc != nil {
		return c.zenc.Close()
	}
	return nil
}

// Decompressor expands compressed envelope payloads, bounded: a payload
// whose declared or actual decompressed size exceeds the limit is
// ErrDecompress, found before the output buffer is allocated, so a small
// frame can't make the process allocate gigabytes.
//
// A Decompressor is not safe for concurrent use: it owns one output buffer,
// reused by every call. Give each connection (or event loop) its own.
type Decompressor struct {
	max  int
	buf  []byte
	zdec *zstd.Decoder
}

// NewDecompressor returns a Decompressor that refuses payloads larger than
// limit bytes once decompressed; 0 means DefaultMaxFrame. Use the frame
// codec's MaxFrame to keep decompressed messages within the frame limit.
func NewDecompressor(limit int) *Decompressor {
	if limit <= 0 {
		limit = DefaultMaxFrame
	}
	return &Decompressor{max: limit}
}

// Limit returns the largest decompressed payload accepted.
func (d *Decompressor) Limit() int { return d.max }

// Data returns ev's payload, decompressed if its flags say so. For an
// uncompressed event it is ev.Data itself. Decompressed bytes live in the
// Decompressor's buffer: valid until the next call of Data, not to be
// modified. The buffer grows to the largest payload seen (never past the
// limit) and is then reused without allocating.
func (d *Decompressor) Data(ev Event) ([]byte, error) {
	algo := ev.Flags.Compression()
	if algo == None {
		return ev.Data, nil
	}
	if ev.RawLen < 0 || ev.RawLen > d.max {
		return nil, protoErr(CodeDecompress, "declared size "+strconv.Itoa(ev.RawLen)+" exceeds limit "+strconv.Itoa(d.max))
	}
	if cap(d.buf) < ev.RawLen {
		d.buf = make([]byte, 0, ev.RawLen)
	}
	switch algo {
	case S2:
		n, err := s2.DecodedLen(ev.Data)
		if err != nil {
			return nil, protoErr(CodeDecompress, "s2: "+err.Error())
		}
		if n != ev.RawLen {
			return nil, protoErr(CodeDecompress, "s2 size "+strconv.Itoa(n)+" differs from declared size "+strconv.Itoa(ev.RawLen))
		}
		out, err := s2.Decode(d.buf[:cap(d.buf)], ev.Data)
		if err != nil {
			return nil, protoErr(CodeDecompress, "s2: "+err.Error())
		}
		return out, nil
	case Zstd:
		if d.zdec == nil {
			zd, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				// zstd's smallest window is 1 KiB; the declared-length
				// check above still holds results to the limit.
				zstd.WithDecoderMaxMemory(uint64(max(d.max, zstd.MinWindowSize))))
			if err != nil {
				return nil, protoErr(CodeDecompress, "zstd: "+err.Error())
			}
			d.zdec = zd
		}
		out, err := d.zdec.DecodeAll(ev.Data, d.buf[:0])
		if err != nil {
			return nil, protoErr(CodeDecompress, "zstd: "+err.Error())
		}
		if len(out) != ev.RawLen {
			return nil, protoErr(CodeDecompress, "zstd size "+strconv.Itoa(len(out))+" differs from declared size "+strconv.Itoa(ev.RawLen))
		}
		if cap(out) <= d.max {
			d.buf = out[:0]
		}
		return out, nil
	}
	return nil, protoErr(CodeBadFlags, "reserved compression algorithm")
}

// Close releases the zstd decoder, if one was created.
func (d *Decompressor) Close() {
	if d.zdec != nil {
		d.zdec.Close()
		d.zdec = nil
	}
}
