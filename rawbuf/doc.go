// Package rawbuf holds helpers for raw (unframed, node-ipc rawBuffer)
// payloads exchanged with C, C++ and embedded peers and with Node.js:
//
//   - Writer and Reader: typed, allocation-free put/get of u8..u64,
//     i8..i64, f32 and f64 in little- or big-endian order, laid out like a
//     packed C struct; plus plain functions (PutF32, F32, ...) for fixed
//     positions. The Reader's error is sticky and it never panics.
//   - Encoding, AppendEncode and AppendDecode: node-ipc's config.encoding
//     values (Node Buffer encodings utf8, ascii, latin1, hex, base64,
//     base64url, ucs2/utf16le) converted exactly as Node's Buffer.from(s,
//     enc) and buf.toString(enc) do, verified against Node 20.
//   - AppendHexdump, Hexdump, AppendHex and ParseHex: `hexdump -C` style
//     dumps for logs and the CLI, and strict hex input parsing.
//
// For a C peer sending
//
//	struct sample { uint32_t seq; uint64_t ts; float a, b, c; } __attribute__((packed));
//
// little-endian (24 bytes), write and read it as
//
//	w := rawbuf.NewWriter(buf[:0], binary.LittleEndian)
//	w.U32(seq); w.U64(ts); w.F32(a); w.F32(b); w.F32(c)
//	payload := w.Bytes()
//
//	r := rawbuf.NewReader(payload, binary.LittleEndian)
//	seq, ts, a, b, c := r.U32(), r.U64(), r.F32(), r.F32(), r.F32()
//	if err := r.Err(); err != nil { ... } // wraps rawbuf.ErrShort
//
// # Buffers and concurrency
//
// All Append* functions follow the encoding/binary and strconv convention:
// they append to dst (which may be nil) and return the extended slice, and
// they do not allocate when dst has enough spare capacity (MaxEncodedLen,
// MaxDecodedLen, HexdumpLen give the amount). Inputs are only read, never
// retained. A Reader does not copy its input: Reader.Bytes returns slices
// of it, valid only as long as the input is (for a goipc Message, the
// duration of the handler). Package functions are safe for concurrent use;
// a Writer or Reader value is not, and each goroutine should use its own.
//
// # Deviations from Node
//
// A Go string is a sequence of bytes, a JavaScript string one of UTF-16
// code units. AppendEncode reads a Go string as the JavaScript string a
// WHATWG TextDecoder would produce from its bytes: ill-formed UTF-8 becomes
// U+FFFD, one per maximal subpart. JavaScript strings holding lone
// surrogates therefore cannot be expressed. Everything else matches Node 20
// byte for byte, including its quirks (see AppendEncode and AppendDecode).
package rawbuf
