package frame

import (
	"encoding/binary"
	"strconv"
)

// The binary event envelope, version 1. It is the payload of one
// length-field frame (docs/PROTOCOL.md specifies it byte by byte):
//
//	offset  size   field
//	0       1      version, 0x01
//	1       1      flags (Flags)
//	2       1      name length N, 0..255
//	3       N      event name, UTF-8 by convention (not validated here)
//	3+N     4      request id, big-endian; present only when flags has
//	               FlagRequest or FlagReply
//	...     8      sequence number, big-endian; present only when flags
//	               has FlagSeq
//	...     4      decompressed payload length, big-endian; present only
//	               when the compression bits are non-zero
//	...     rest   payload (compressed when the compression bits say so)
const (
	// EnvelopeVersion is the version byte of the envelope this package
	// writes and the only one it reads.
	EnvelopeVersion = 1
	// MaxEventName is the longest event name the envelope can carry.
	MaxEventName = 255
	// envelopeMin is the size of an envelope with an empty name and payload.
	envelopeMin = 3
)

// Flags is the envelope's flag byte.
type Flags uint8

// Flag bits.
const (
	// FlagS2 and FlagZstd share bits 0-1, the compression algorithm:
	// 0 none, 1 s2 (block format), 2 zstd (one frame), 3 reserved.
	FlagS2   Flags = 0x01
	FlagZstd Flags = 0x02
	// FlagJSON says the (decompressed) payload is UTF-8 JSON.
	FlagJSON Flags = 0x04
	// FlagRequest says the sender expects a reply; a request id follows
	// the name.
	FlagRequest Flags = 0x08
	// FlagReply says this envelope answers the request with the id that
	// follows the name.
	FlagReply Flags = 0x10
	// FlagError, only with FlagReply, says the request failed and the
	// payload is a UTF-8 error message.
	FlagError Flags = 0x20
	// FlagSeq says an 8-byte sequence number follows the request id: the
	// message's position in the sender's delivery session, which lets the
	// receiver drop a message it already has after a reconnect (exactly-
	// once delivery, docs/PROTOCOL.md).
	FlagSeq Flags = 0x40
	// FlagControl marks a protocol control message (a session hello,
	// welcome or acknowledgement): its name is the operation, and it is
	// never delivered to handlers. It combines with no other flag but
	// FlagJSON.
	FlagControl Flags = 0x80

	compressionMask = FlagS2 | FlagZstd
)

// Compression is the algorithm named by the envelope's compression bits.
type Compression uint8

// Compression algorithms, with their values in the flag bits.
const (
	None Compression = 0
	S2   Compression = 1
	Zstd Compression = 2
)

// String returns "none", "s2" or "zstd".
func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case S2:
		return "s2"
	case Zstd:
		return "zstd"
	}
	return "compression(" + strconv.Itoa(int(c)) + ")"
}

// Compression returns the algorithm in f's compression bits.
func (f Flags) Compression() Compression { return Compression(f & compressionMask) }

// HasID reports whether an envelope with flags f carries a request id.
func (f Flags) HasID() bool { return f&(FlagRequest|FlagReply) != 0 }

func (f Flags) check() error {
	switch {
	case f&FlagControl != 0 && f&^(FlagControl|FlagJSON) != 0:
		return protoErr(CodeBadFlags, "control message with other flags")
	case f&compressionMask == compressionMask:
		return protoErr(CodeBadFlags, "reserved compression algorithm 3")
	case f&FlagRequest != 0 && f&FlagReply != 0:
		return protoErr(CodeBadFlags, "both request and reply")
	case f&FlagError != 0 && f&FlagReply == 0:
		return protoErr(CodeBadFlags, "error flag without reply")
	}
	return nil
}

// Event is one decoded envelope. Name and Data alias the frame it was
// parsed from: they are valid as long as that frame is (for a stream
// Decoder, until its next Next) and must not be modified.
type Event struct {
	Flags Flags
	// ID is the request id, zero unless Flags.HasID().
	ID uint32
	// Seq is the session sequence number, zero unless Flags has FlagSeq.
	Seq uint64
	// Name is the event name, 0 to 255 bytes.
	Name []byte
	// Data is the payload as on the wire: still compressed when
	// Flags.Compression() is not None (Decompressor.Data expands it).
	Data []byte
	// RawLen is the declared decompressed length of a compressed payload,
	// otherwise len(Data).
	RawLen int
}

// EventHeaderLen returns the envelope bytes that precede the payload for a
// name of nameLen bytes and flags f.
func EventHeaderLen(nameLen int, f Flags) int {
	n := envelopeMin + nameLen
	if f.HasID() {
		n += 4
	}
	if f&FlagSeq != 0 {
		n += 8
	}
	if f.Compression() != None {
		n += 4
	}
	return n
}

// AppendEvent appends an uncompressed envelope carrying name, flags, id and
// data to dst and returns the extended slice; dst may be nil. It does not
// frame the envelope: wrap it with a Codec's Begin and End. The id is
// written only when flags has FlagRequest or FlagReply. Compression bits in
// flags are an error here: use a Compressor. It does not allocate when dst
// has room.
func AppendEvent(dst []byte, name string, flags Flags, id uint32, data []byte) ([]byte, error) {
	return AppendEventSeq(dst, name, flags, id, 0, data)
}

// AppendEventSeq is AppendEvent with a sequence number, written when flags
// has FlagSeq.
func AppendEventSeq(dst []byte, name string, flags Flags, id uint32, seq uint64, data []byte) ([]byte, error) {
	if err := checkOutgoing(name, flags); err != nil {
		return dst, err
	}
	if flags.Compression() != None {
		return dst, ErrBadFlags
	}
	dst = appendEventHeader(dst, name, flags, id, seq)
	return append(dst, data...), nil
}

func checkOutgoing(name string, flags Flags) error {
	if len(name) > MaxEventName {
		return ErrNameTooLong
	}
	if flags.check() != nil {
		return ErrBadFlags
	}
	return nil
}

func appendEventHeader(dst []byte, name string, flags Flags, id uint32, seq uint64) []byte {
	dst = append(dst, EnvelopeVersion, byte(flags), byte(len(name)))
	dst = append(dst, name...)
	if flags.HasID() {
		dst = binary.BigEndian.AppendUint32(dst, id)
	}
	if flags&FlagSeq != 0 {
		dst = binary.BigEndian.AppendUint64(dst, seq)
	}
	return dst
}

// ParseEvent decodes the envelope in b, one frame's payload. Short or
// malformed input is a *ProtocolError (ErrTruncated, ErrBadVersion,
// ErrBadFlags). It never allocates and never panics.
func ParseEvent(b []byte) (Event, error) {
	var ev Event
	err := ev.Parse(b)
	return ev, err
}

// Parse decodes the envelope in b into ev, like ParseEvent, without
// copying the Event through a return value (the hot path's form). On error
// ev is zeroed.
func (ev *Event) Parse(b []byte) error {
	if len(b) < envelopeMin {
		*ev = Event{}
		return protoErr(CodeTruncated, "envelope shorter than 3 bytes")
	}
	if b[0] != EnvelopeVersion {
		*ev = Event{}
		return protoErr(CodeBadVersion, "version "+strconv.Itoa(int(b[0])))
	}
	*ev = Event{Flags: Flags(b[1])}
	if err := ev.Flags.check(); err != nil {
		*ev = Event{}
		return err
	}
	n := int(b[2])
	p := envelopeMin + n
	if len(b) < p {
		*ev = Event{}
		return protoErr(CodeTruncated, "name runs past the end of the frame")
	}
	ev.Name = b[envelopeMin:p:p]
	if ev.Flags.HasID() {
		if len(b) < p+4 {
			*ev = Event{}
			return protoErr(CodeTruncated, "request id runs past the end of the frame")
		}
		ev.ID = binary.BigEndian.Uint32(b[p:])
		p += 4
	}
	if ev.Flags&FlagSeq != 0 {
		if len(b) < p+8 {
			*ev = Event{}
			return protoErr(CodeTruncated, "sequence number runs past the end of the frame")
		}
		ev.Seq = binary.BigEndian.Uint64(b[p:])
		p += 8
	}
	if ev.Flags.Compression() != None {
		if len(b) < p+4 {
			*ev = Event{}
			return protoErr(CodeTruncated, "decompressed length runs past the end of the frame")
		}
		ev.RawLen = int(binary.BigEndian.Uint32(b[p:]))
		p += 4
		ev.Data = b[p:]
	} else {
		ev.Data = b[p:]
		ev.RawLen = len(ev.Data)
	}
	return nil
}
