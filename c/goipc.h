/*
 * goipc.h - goipc's wire formats for C peers, in one header.
 *
 * https://github.com/seed-fc4a2f4b/goipc, docs/PROTOCOL.md (the byte-level
 * specification) and docs/C-PEERS.md (the walkthrough).
 *
 * What is in it:
 *   - length-field framing with the parameters of the Go codec
 *     (frame.LengthFieldConfig, Netty's LengthFieldBasedFrameDecoder):
 *     offset, size 1/2/3/4/8, byte order, adjustment, includes-header,
 *     strip, max frame; errors decided from the header alone;
 *   - an incremental decoder over a caller-provided buffer that accepts
 *     bytes in any chunking and yields whole frames;
 *   - the binary event envelope v1 (encode and decode; compressed payloads
 *     are reported to the caller as compressed, with their declared
 *     length: decompression is not implemented in C);
 *   - optional POSIX helpers (connect/listen on Unix sockets and TCP, send
 *     and receive one frame, emit one event) when GOIPC_POSIX is defined.
 *
 * Plain C99, no allocation, no dependency: the core uses only <stddef.h>
 * and <stdint.h> (no libc calls at all), so it builds freestanding for a
 * microcontroller. Every buffer is the caller's.
 *
 * Use, single-header style: in exactly one .c file
 *
 *     #define GOIPC_IMPLEMENTATION
 *     #define GOIPC_POSIX            (optional: the socket helpers)
 *     #include "goipc.h"
 *
 * and plain #include "goipc.h" elsewhere. With GOIPC_POSIX under -std=c99,
 * include goipc.h before any system header, or define _POSIX_C_SOURCE to
 * 200809L yourself: the header defines it when nothing else did.
 *
 * Return values: every function returning int answers
 *     GOIPC_OK (0)      success (a frame, an event, bytes written);
 *     GOIPC_MORE (-1)   need more input; not an error;
 *     > 0               a wire error with the code of docs/PROTOCOL.md
 *                       section 7 (1 frame too large, 2 corrupt length,
 *                       10 bad version, 11 bad flags, 12 truncated,
 *                       13 name too long, 14 declared length over limit);
 *                       after a decode error the stream cannot be
 *                       resynchronised: close the connection;
 *     < -1              a local error (GOIPC_EINVAL, GOIPC_ESHORT, ...).
 *
 * Thread safety: a goipc_lf is immutable after goipc_lf_init and may be
 * shared; a goipc_decoder belongs to one reader.
 *
 * SPDX-License-Identifier: MIT (see LICENSE in the repository)
 */
#ifndef GOIPC_H
#define GOIPC_H

#if defined(GOIPC_POSIX) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>

#ifndef GOIPC_API
#define GOIPC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ---------------------------------------------------- */

enum {
	GOIPC_OK = 0,
	GOIPC_MORE = -1,

	/* wire errors: docs/PROTOCOL.md section 7 */
	GOIPC_ERR_FRAME_TOO_LARGE = 1,
	GOIPC_ERR_CORRUPT_LENGTH = 2,
	GOIPC_ERR_BAD_VERSION = 10,
	GOIPC_ERR_BAD_FLAGS = 11,
	GOIPC_ERR_TRUNCATED = 12,
	GOIPC_ERR_NAME_TOO_LONG = 13,
	GOIPC_ERR_DECOMPRESS = 14,

	/* local errors */
	GOIPC_EINVAL = -2,   /* invalid configuration or argument */
	GOIPC_ESHORT = -3,   /* encode: payload too short to carry its unstripped header (Go ErrShortPayload) */
	GOIPC_ENOSPC = -4,   /* the caller's buffer is too small */
	GOIPC_EIO = -5,      /* POSIX: a system call failed, see errno */
	GOIPC_EOF = -6,      /* POSIX: the peer closed the stream at a frame boundary */
	GOIPC_EUNEXPECTED_EOF = -7, /* POSIX: the peer closed the stream inside a frame */
	GOIPC_ECOMPRESSED = -8 /* the event is compressed: its payload needs decompressing (not done in C) */
};

/* goipc_strerror returns a static description of a status code. */
GOIPC_API const char *goipc_strerror(int code);

/* ---- length-field framing (docs/PROTOCOL.md section 2) ------------------- */

#define GOIPC_DEFAULT_MAX_FRAME 8388608u /* 8 MiB, header included */

/*
 * goipc_lf_config mirrors Go's frame.LengthFieldConfig field for field. The
 * all-zero value is goipc's default: a 4-byte big-endian length of the
 * payload, header stripped, frames up to 8 MiB.
 *
 *   offset          bytes before the length field, 0..65535
 *   size            1, 2, 3, 4 or 8 (0 means 4); an 8-byte field is signed
 *   little_endian   non-zero: little-endian length field
 *   adjustment      added to the field's value, -2^30..2^30
 *   includes_header non-zero: the value counts offset+size too
 *   strip           bytes removed from each decoded frame; 0 means the whole
 *                   header (offset+size) unless keep_header is set
 *   keep_header     non-zero: strip nothing (strip must be 0)
 *   max_frame       largest frame on the wire, header included; 0 = 8 MiB
 */
typedef struct goipc_lf_config {
	uint32_t offset;
	uint32_t size;
	int little_endian;
	int32_t adjustment;
	int includes_header;
	uint32_t strip;
	int keep_header;
	uint64_t max_frame;
} goipc_lf_config;

/* goipc_lf is a validated codec: fill it with goipc_lf_init. */
typedef struct goipc_lf {
	uint32_t offset;  /* bytes before the field */
	uint32_t size;    /* field width */
	uint32_t end;     /* header_len = offset + size */
	uint32_t strip;   /* effective bytes stripped */
	int64_t adj;      /* total = v + adj + end */
	uint64_t max_frame;
	uint64_t max_len; /* largest field value accepted */
	int little;
} goipc_lf;

/* A decoded frame. payload points into the caller's input buffer. */
typedef struct goipc_frame {
	const uint8_t *payload; /* frame[strip : total] */
	size_t len;             /* payload length */
	size_t consumed;        /* total frame bytes on the wire */
	uint64_t need;          /* on GOIPC_MORE: bytes needed from the frame start */
} goipc_frame;

/* goipc_lf_init validates cfg (NULL: the default) into lf. GOIPC_EINVAL
 * for a configuration the Go codec would refuse too. */
GOIPC_API int goipc_lf_init(goipc_lf *lf, const goipc_lf_config *cfg);

/* goipc_lf_header_len returns offset+size. */
GOIPC_API size_t goipc_lf_header_len(const goipc_lf *lf);

/*
 * goipc_lf_parse decodes the frame at the start of b[0:n]:
 *   GOIPC_OK    *out holds the payload and consumed (the frame's length);
 *   GOIPC_MORE  out->need is the number of bytes (from b) needed to progress:
 *               the header length, then the whole frame's length. That is
 *               already checked against max_frame, so it is safe to wait;
 *   1 or 2      frame too large / corrupt length, decided from the header
 *               alone, before any of the body is buffered.
 */
GOIPC_API int goipc_lf_parse(const goipc_lf *lf, const uint8_t *b, size_t n, goipc_frame *out);

/*
 * goipc_lf_encode writes one frame carrying payload into dst[0:cap]:
 * strip zero bytes, the payload, then the length field written into bytes
 * [offset, offset+size) of the frame (for strip <= offset that slot is inside
 * the payload's copy, which is overwritten, as in Go). *written gets the
 * frame length. Errors: GOIPC_ERR_FRAME_TOO_LARGE (1), GOIPC_ESHORT,
 * GOIPC_ENOSPC. dst and payload must not overlap, except that payload may
 * already sit at dst + strip (encode in place: goipc_lf_strip bytes
 * reserved in front of it).
 */
GOIPC_API int goipc_lf_encode(const goipc_lf *lf, uint8_t *dst, size_t cap,
                              const uint8_t *payload, size_t n, size_t *written);

/* goipc_lf_strip returns the bytes to reserve before a payload for
 * goipc_lf_end (zero them, or let goipc_lf_encode do it). */
GOIPC_API size_t goipc_lf_strip(const goipc_lf *lf);

/* goipc_lf_end writes the length field of the frame[0:total] that the
 * caller built (strip reserved bytes, then the payload). Same errors as
 * goipc_lf_encode, nothing written on error. */
GOIPC_API int goipc_lf_end(const goipc_lf *lf, uint8_t *frame, size_t total);

/* goipc_lf_put_header writes the strip header bytes of a frame whose
 * payload is n bytes into hdr[0:cap] (zeros and the length field), for
 * scatter/gather writes of the header and a separate payload. Requires
 * strip >= offset+size (the length field lies in the stripped header),
 * else GOIPC_EINVAL. *hlen gets strip. */
GOIPC_API int goipc_lf_put_header(const goipc_lf *lf, uint8_t *hdr, size_t cap, size_t n, size_t *hlen);

/* ---- incremental decoder ------------------------------------------------ */

/*
 * goipc_decoder turns bytes arriving in any chunking into whole frames,
 * in a buffer the caller owns, of at least the codec's max_frame bytes (so
 * every legal frame fits). The max-frame check is made from the header, as
 * soon as the header's bytes arrive.
 *
 *   goipc_decoder d; static uint8_t buf[1024];
 *   goipc_dec_init(&d, &lf, buf, sizeof buf);   // lf.max_frame <= 1024
 *   for (;;) {
 *       size_t room; uint8_t *p = goipc_dec_space(&d, &room);
 *       ssize_t k = read(fd, p, room);  ...  goipc_dec_commit(&d, k);
 *       goipc_frame f; int rc;
 *       while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) use(f.payload, f.len);
 *       if (rc != GOIPC_MORE) close_connection();   // a wire error code
 *   }
 *
 * A frame's payload stays valid until the next goipc_dec_space,
 * goipc_dec_feed or goipc_dec_push call (goipc_dec_next itself never moves
 * data, so a batch of frames may be used together). Errors are sticky.
 */
typedef struct goipc_decoder {
	goipc_lf lf;
	uint8_t *buf;
	size_t cap;
	size_t start; /* first unconsumed byte */
	size_t end;   /* end of buffered bytes */
	int err;      /* sticky error, 0 when none */
} goipc_decoder;

/* goipc_dec_init: GOIPC_EINVAL when cap < lf->max_frame or buf is NULL. */
GOIPC_API int goipc_dec_init(goipc_decoder *d, const goipc_lf *lf, uint8_t *buf, size_t cap);
/* goipc_dec_reset drops buffered bytes and any error (a new connection). */
GOIPC_API void goipc_dec_reset(goipc_decoder *d);
/* goipc_dec_space compacts the buffer and returns where to put new bytes
 * and how many fit (never 0 while the decoder has no error). */
GOIPC_API uint8_t *goipc_dec_space(goipc_decoder *d, size_t *room);
/* goipc_dec_commit records n bytes written at goipc_dec_space. */
GOIPC_API void goipc_dec_commit(goipc_decoder *d, size_t n);
/* goipc_dec_feed copies up to n bytes in; returns how many it took. */
GOIPC_API size_t goipc_dec_feed(goipc_decoder *d, const uint8_t *p, size_t n);
/* goipc_dec_next yields the next buffered frame: GOIPC_OK, GOIPC_MORE or
 * the (sticky) wire error. On GOIPC_MORE, out->need counts from the start
 * of the pending frame. */
GOIPC_API int goipc_dec_next(goipc_decoder *d, goipc_frame *out);
/* goipc_dec_buffered returns the bytes buffered and not yet consumed. */
GOIPC_API size_t goipc_dec_buffered(const goipc_decoder *d);

/* goipc_frame_fn is called once per frame by goipc_dec_push; a non-zero
 * return stops goipc_dec_push, which returns that value. */
typedef int (*goipc_frame_fn)(void *ctx, const uint8_t *payload, size_t len);

/* goipc_dec_push feeds p[0:n] (any chunk: one byte from a UART interrupt,
 * or a whole read) and calls fn for every frame completed. Returns
 * GOIPC_OK when all of p was taken, a wire error, or fn's non-zero value. */
GOIPC_API int goipc_dec_push(goipc_decoder *d, const uint8_t *p, size_t n, goipc_frame_fn fn, void *ctx);

/* ---- binary event envelope v1 (docs/PROTOCOL.md section 5) -------------- */

#define GOIPC_ENVELOPE_VERSION 1
#define GOIPC_MAX_EVENT_NAME 255

#define GOIPC_FLAG_S2 0x01u      /* compression 1: s2 block */
#define GOIPC_FLAG_ZSTD 0x02u    /* compression 2: zstd frame */
#define GOIPC_FLAG_JSON 0x04u    /* payload is UTF-8 JSON (informational) */
#define GOIPC_FLAG_REQUEST 0x08u /* a request id follows the name */
#define GOIPC_FLAG_REPLY 0x10u   /* a reply: the id of the request follows */
#define GOIPC_FLAG_ERROR 0x20u   /* with REPLY: the payload is an error message */
#define GOIPC_FLAG_SEQ 0x40u     /* an 8-byte sequence number follows the id */
#define GOIPC_FLAG_CONTROL 0x80u /* protocol control message (only JSON may join it) */
#define GOIPC_COMPRESSION_MASK 0x03u

/* Longest envelope header: 3 + 255 + 4 (id) + 8 (seq) + 4 (declared length). */
#define GOIPC_EVENT_HEADER_MAX 274u

/* A decoded envelope; pointers alias the frame it was parsed from. */
typedef struct goipc_event {
	uint8_t flags;
	uint32_t id;            /* request id, 0 unless flags has REQUEST or REPLY */
	uint64_t seq;           /* sequence number, 0 unless flags has SEQ */
	const uint8_t *name;    /* event name, name_len bytes, not terminated */
	size_t name_len;
	const uint8_t *data;    /* payload as on the wire (compressed if flags & 3) */
	size_t data_len;
	uint32_t raw_len;       /* declared decompressed length if compressed, else data_len */
} goipc_event;

/* goipc_event_compression returns 0 none, 1 s2, 2 zstd. */
#define goipc_event_compression(ev) ((unsigned)((ev)->flags & GOIPC_COMPRESSION_MASK))

/* goipc_flags_check returns GOIPC_OK or GOIPC_ERR_BAD_FLAGS (11). */
GOIPC_API int goipc_flags_check(unsigned flags);

/* goipc_event_header_len: bytes before the payload for a name and flags. */
GOIPC_API size_t goipc_event_header_len(size_t name_len, unsigned flags);

/*
 * goipc_event_parse decodes one envelope (one frame's payload) in the order
 * of PROTOCOL.md 5.3: 12, 10, 11, 12. A compressed event parses fine (the
 * caller sees goipc_event_compression(ev) != 0 and must decompress data to
 * raw_len bytes itself, or refuse it); use goipc_event_check_limit to refuse
 * declared lengths over a limit (error 14) before doing anything else.
 */
GOIPC_API int goipc_event_parse(const uint8_t *b, size_t n, goipc_event *ev);

/* goipc_event_check_limit: GOIPC_ERR_DECOMPRESS (14) when ev is compressed
 * and declares more than limit bytes, else GOIPC_OK. */
GOIPC_API int goipc_event_check_limit(const goipc_event *ev, uint64_t limit);

/* goipc_event_payload returns GOIPC_OK for an uncompressed event, and
 * GOIPC_ECOMPRESSED for a compressed one (the C side cannot expand it). */
GOIPC_API int goipc_event_payload(const goipc_event *ev, const uint8_t **data, size_t *len);

/*
 * goipc_event_encode writes an uncompressed envelope (no framing) into
 * dst[0:cap]. Errors: 13 (name over 255 bytes), 11 (flags fail the checks
 * or carry compression bits: the C side does not compress), GOIPC_ENOSPC.
 * The id is written only when flags has REQUEST or REPLY.
 */
GOIPC_API int goipc_event_encode(uint8_t *dst, size_t cap, const char *name, size_t name_len,
                                 unsigned flags, uint32_t id, const uint8_t *data, size_t n,
                                 size_t *written);

/* goipc_event_encode_seq is goipc_event_encode with a sequence number,
 * written when flags has SEQ. */
GOIPC_API int goipc_event_encode_seq(uint8_t *dst, size_t cap, const char *name, size_t name_len,
                                     unsigned flags, uint32_t id, uint64_t seq, const uint8_t *data,
                                     size_t n, size_t *written);

/* goipc_event_frame is goipc_event_encode inside one length-field frame of
 * lf (the envelope is the frame's payload): ready to write to the wire. */
GOIPC_API int goipc_event_frame(const goipc_lf *lf, uint8_t *dst, size_t cap, const char *name,
                                size_t name_len, unsigned flags, uint32_t id, const uint8_t *data,
                                size_t n, size_t *written);

/* ---- optional POSIX helpers ------------------------------------------- */
#ifdef GOIPC_POSIX

/*
 * Addresses, as in goipc: "unix:///abs/path", "tcp://host:port" (IPv6 as
 * tcp://[::1]:port). A bare path (starting with '/' or '.') means unix.
 */

/* goipc_connect returns a connected, blocking stream socket, or -1 with
 * errno set (EINVAL for an address it can't parse). TCP gets TCP_NODELAY. */
GOIPC_API int goipc_connect(const char *addr);

/* goipc_listen binds and listens. For unix addresses, an existing socket
 * file at the path is replaced only when it is a socket (never any other
 * file). Returns the listening socket or -1 with errno set. For tcp port
 * 0, goipc_local_port tells the port chosen. */
GOIPC_API int goipc_listen(const char *addr, int backlog);
GOIPC_API int goipc_local_port(int fd);

/* goipc_accept accepts one connection (retrying EINTR); -1 on error. */
GOIPC_API int goipc_accept(int lfd);

/* goipc_write_all writes all n bytes (retrying short writes and EINTR). */
GOIPC_API int goipc_write_all(int fd, const void *p, size_t n);

/* goipc_send_frame writes one frame carrying payload with a single writev,
 * without copying the payload and without modifying it (for strip <= offset
 * the length slot is spliced in). strip above 512 is GOIPC_EINVAL. */
GOIPC_API int goipc_send_frame(int fd, const goipc_lf *lf, const void *payload, size_t n);

/* goipc_emit writes one event frame (uncompressed envelope) with a single
 * writev. Requires strip >= offset+size (GOIPC_EINVAL otherwise). */
GOIPC_API int goipc_emit(int fd, const goipc_lf *lf, const char *name, unsigned flags, uint32_t id,
                         const void *data, size_t n);

/* goipc_recv_frame returns the next frame from fd through d, reading only
 * as needed (one read may bring many frames; later calls return them
 * without reading). GOIPC_OK, a wire error (close the connection), GOIPC_EOF
 * (clean end), GOIPC_EUNEXPECTED_EOF, or GOIPC_EIO (errno). */
GOIPC_API int goipc_recv_frame(int fd, goipc_decoder *d, goipc_frame *out);

#endif /* GOIPC_POSIX */

#ifdef __cplusplus
}
#endif
#endif /* GOIPC_H */

/* ======================================================================= */
#ifdef GOIPC_IMPLEMENTATION
#ifndef GOIPC_IMPLEMENTATION_DONE
#define GOIPC_IMPLEMENTATION_DONE

static void goipc__zero(uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = 0;
}

/* memmove without libc */
static void goipc__move(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i;
	if (dst == src || n == 0)
		return;
	if (dst < src) {
		for (i = 0; i < n; i++)
			dst[i] = src[i];
	} else {
		for (i = n; i > 0; i--)
			dst[i - 1] = src[i - 1];
	}
}

GOIPC_API const char *goipc_strerror(int code)
{
	switch (code) {
	case GOIPC_OK: return "ok";
	case GOIPC_MORE: return "need more input";
	case GOIPC_ERR_FRAME_TOO_LARGE: return "frame too large";
	case GOIPC_ERR_CORRUPT_LENGTH: return "corrupt length";
	case GOIPC_ERR_BAD_VERSION: return "bad envelope version";
	case GOIPC_ERR_BAD_FLAGS: return "bad envelope flags";
	case GOIPC_ERR_TRUNCATED: return "truncated envelope";
	case GOIPC_ERR_NAME_TOO_LONG: return "event name too long";
	case GOIPC_ERR_DECOMPRESS: return "declared decompressed length over the limit";
	case GOIPC_EINVAL: return "invalid argument or configuration";
	case GOIPC_ESHORT: return "payload too short to carry its header";
	case GOIPC_ENOSPC: return "buffer too small";
	case GOIPC_EIO: return "I/O error (see errno)";
	case GOIPC_EOF: return "end of stream";
	case GOIPC_EUNEXPECTED_EOF: return "unexpected end of stream inside a frame";
	case GOIPC_ECOMPRESSED: return "compressed payload (not decompressed in C)";
	}
	return "unknown error";
}

/* ---- length field ---- */

GOIPC_API int goipc_lf_init(goipc_lf *lf, const goipc_lf_config *cfg)
{
	goipc_lf_config zero;
	int64_t min_total, max_len;
	uint64_t field_max;
	if (lf == NULL)
		return GOIPC_EINVAL;
	if (cfg == NULL) {
		goipc__zero((uint8_t *)&zero, sizeof zero);
		zero.offset = 0; /* all-zero is the default */
		cfg = &zero;
	}
	lf->size = cfg->size == 0 ? 4 : cfg->size;
	switch (lf->size) {
	case 1: case 2: case 3: case 4: case 8: break;
	default: return GOIPC_EINVAL;
	}
	if (cfg->offset > 65535)
		return GOIPC_EINVAL;
	lf->offset = cfg->offset;
	lf->end = lf->offset + lf->size;
	lf->max_frame = cfg->max_frame == 0 ? GOIPC_DEFAULT_MAX_FRAME : cfg->max_frame;
	if (lf->max_frame > (uint64_t)INT64_MAX)
		return GOIPC_EINVAL;
	if (cfg->keep_header && cfg->strip != 0)
		return GOIPC_EINVAL;
	if (cfg->keep_header)
		lf->strip = 0;
	else if (cfg->strip == 0)
		lf->strip = lf->end;
	else
		lf->strip = cfg->strip;
	if (lf->strip > 65535)
		return GOIPC_EINVAL;
	if (lf->strip > lf->offset && lf->strip < lf->end)
		return GOIPC_EINVAL;
	if (cfg->adjustment < -(1L << 30) || cfg->adjustment > (1L << 30))
		return GOIPC_EINVAL;
	lf->adj = cfg->adjustment;
	if (cfg->includes_header)
		lf->adj -= (int64_t)lf->end;
	min_total = (int64_t)lf->end;
	if ((int64_t)lf->strip > min_total)
		min_total = (int64_t)lf->strip;
	if ((int64_t)lf->end + lf->adj > min_total)
		min_total = (int64_t)lf->end + lf->adj;
	if ((uint64_t)min_total > lf->max_frame)
		return GOIPC_EINVAL;
	max_len = (int64_t)lf->max_frame - (int64_t)lf->end - lf->adj; /* >= 0 by the check above */
	field_max = lf->size == 8 ? (uint64_t)INT64_MAX : (((uint64_t)1 << (8 * lf->size)) - 1);
	lf->max_len = (uint64_t)max_len < field_max ? (uint64_t)max_len : field_max;
	lf->little = cfg->little_endian != 0;
	return GOIPC_OK;
}

GOIPC_API size_t goipc_lf_header_len(const goipc_lf *lf) { return lf->end; }
GOIPC_API size_t goipc_lf_strip(const goipc_lf *lf) { return lf->strip; }

static uint64_t goipc__read_len(const goipc_lf *lf, const uint8_t *b)
{
	uint64_t v = 0;
	uint32_t i;
	b += lf->offset;
	if (lf->little) {
		for (i = lf->size; i > 0; i--)
			v = (v << 8) | b[i - 1];
	} else {
		for (i = 0; i < lf->size; i++)
			v = (v << 8) | b[i];
	}
	return v;
}

static void goipc__put_len(const goipc_lf *lf, uint8_t *b, uint64_t v)
{
	uint32_t i;
	b += lf->offset;
	if (lf->little) {
		for (i = 0; i < lf->size; i++) {
			b[i] = (uint8_t)v;
			v >>= 8;
		}
	} else {
		for (i = lf->size; i > 0; i--) {
			b[i - 1] = (uint8_t)v;
			v >>= 8;
		}
	}
}

/* goipc__frame_len: total frame length from a buffered header. */
static int goipc__frame_len(const goipc_lf *lf, const uint8_t *b, uint64_t *total)
{
	uint64_t v = goipc__read_len(lf, b);
	int64_t t;
	if (lf->size == 8 && v > (uint64_t)INT64_MAX)
		return GOIPC_ERR_CORRUPT_LENGTH;
	if (v > lf->max_len)
		return GOIPC_ERR_FRAME_TOO_LARGE;
	/* v <= max_frame - end - adj <= 2^63, so this does not overflow */
	t = (int64_t)v + lf->adj + (int64_t)lf->end;
	if (t < (int64_t)lf->end)
		return GOIPC_ERR_CORRUPT_LENGTH;
	if (t < (int64_t)lf->strip)
		return GOIPC_ERR_CORRUPT_LENGTH;
	*total = (uint64_t)t;
	return GOIPC_OK;
}

GOIPC_API int goipc_lf_parse(const goipc_lf *lf, const uint8_t *b, size_t n, goipc_frame *out)
{
	uint64_t total;
	int rc;
	out->payload = NULL;
	out->len = 0;
	out->consumed = 0;
	if (n < lf->end) {
		out->need = lf->end;
		return GOIPC_MORE;
	}
	rc = goipc__frame_len(lf, b, &total);
	if (rc != GOIPC_OK) {
		out->need = 0;
		return rc;
	}
	if ((uint64_t)n < total) {
		out->need = total;
		return GOIPC_MORE;
	}
	out->need = total;
	out->payload = b + lf->strip;
	out->len = (size_t)total - lf->strip;
	out->consumed = (size_t)total;
	return GOIPC_OK;
}

/* goipc__len_value: the field value for a frame of total bytes (PROTOCOL.md 2.5). */
static int goipc__len_value(const goipc_lf *lf, uint64_t total, uint64_t *v)
{
	/* end + adj <= max_frame (checked by goipc_lf_init): a frame over
	 * max_frame is never "short", and below it the int64 casts are exact */
	if (total > lf->max_frame) {
		if (total < lf->end)
			return GOIPC_ESHORT;
		return GOIPC_ERR_FRAME_TOO_LARGE;
	}
	if (total < lf->end || (int64_t)total < (int64_t)lf->end + lf->adj)
		return GOIPC_ESHORT;
	*v = (uint64_t)((int64_t)total - (int64_t)lf->end - lf->adj);
	if (*v > lf->max_len)
		return GOIPC_ERR_FRAME_TOO_LARGE;
	return GOIPC_OK;
}

GOIPC_API int goipc_lf_end(const goipc_lf *lf, uint8_t *frame, size_t total)
{
	uint64_t v = 0;
	int rc = goipc__len_value(lf, total, &v);
	if (rc != GOIPC_OK)
		return rc;
	goipc__put_len(lf, frame, v);
	return GOIPC_OK;
}

GOIPC_API int goipc_lf_encode(const goipc_lf *lf, uint8_t *dst, size_t cap,
                              const uint8_t *payload, size_t n, size_t *written)
{
	size_t total;
	uint64_t v = 0;
	int rc;
	*written = 0;
	if (n > (size_t)-1 - lf->strip)
		return GOIPC_ERR_FRAME_TOO_LARGE;
	total = lf->strip + n;
	/* check before touching dst, so a failed encode leaves it as it was */
	rc = goipc__len_value(lf, total, &v);
	if (rc != GOIPC_OK)
		return rc;
	if (total > cap)
		return GOIPC_ENOSPC;
	if (payload != dst + lf->strip)
		goipc__move(dst + lf->strip, payload, n);
	goipc__zero(dst, lf->strip);
	goipc__put_len(lf, dst, v);
	*written = total;
	return GOIPC_OK;
}

GOIPC_API int goipc_lf_put_header(const goipc_lf *lf, uint8_t *hdr, size_t cap, size_t n, size_t *hlen)
{
	size_t total;
	uint64_t v = 0;
	int rc;
	*hlen = 0;
	if (lf->strip < lf->end)
		return GOIPC_EINVAL;
	if (cap < lf->strip)
		return GOIPC_ENOSPC;
	if (n > (size_t)-1 - lf->strip)
		return GOIPC_ERR_FRAME_TOO_LARGE;
	total = lf->strip + n;
	rc = goipc__len_value(lf, total, &v);
	if (rc != GOIPC_OK)
		return rc;
	goipc__zero(hdr, lf->strip);
	goipc__put_len(lf, hdr, v);
	*hlen = lf->strip;
	return GOIPC_OK;
}

/* ---- decoder ---- */

GOIPC_API int goipc_dec_init(goipc_decoder *d, const goipc_lf *lf, uint8_t *buf, size_t cap)
{
	if (d == NULL || lf == NULL || buf == NULL || (uint64_t)cap < lf->max_frame)
		return GOIPC_EINVAL;
	d->lf = *lf;
	d->buf = buf;
	d->cap = cap;
	d->start = d->end = 0;
	d->err = 0;
	return GOIPC_OK;
}

GOIPC_API void goipc_dec_reset(goipc_decoder *d)
{
	d->start = d->end = 0;
	d->err = 0;
}

GOIPC_API size_t goipc_dec_buffered(const goipc_decoder *d) { return d->end - d->start; }

GOIPC_API uint8_t *goipc_dec_space(goipc_decoder *d, size_t *room)
{
	if (d->start > 0) {
		goipc__move(d->buf, d->buf + d->start, d->end - d->start);
		d->end -= d->start;
		d->start = 0;
	}
	*room = d->err ? 0 : d->cap - d->end;
	return d->buf + d->end;
}

GOIPC_API void goipc_dec_commit(goipc_decoder *d, size_t n)
{
	if (n > d->cap - d->end)
		n = d->cap - d->end;
	d->end += n;
}

GOIPC_API size_t goipc_dec_feed(goipc_decoder *d, const uint8_t *p, size_t n)
{
	size_t room;
	uint8_t *dst = goipc_dec_space(d, &room);
	if (n > room)
		n = room;
	goipc__move(dst, p, n);
	d->end += n;
	return n;
}

GOIPC_API int goipc_dec_next(goipc_decoder *d, goipc_frame *out)
{
	int rc;
	if (d->err) {
		out->payload = NULL;
		out->len = out->consumed = 0;
		out->need = 0;
		return d->err;
	}
	rc = goipc_lf_parse(&d->lf, d->buf + d->start, d->end - d->start, out);
	if (rc == GOIPC_OK)
		d->start += out->consumed;
	else if (rc != GOIPC_MORE)
		d->err = rc;
	return rc;
}

GOIPC_API int goipc_dec_push(goipc_decoder *d, const uint8_t *p, size_t n, goipc_frame_fn fn, void *ctx)
{
	goipc_frame f;
	int rc;
	while (n > 0) {
		size_t k = goipc_dec_feed(d, p, n);
		if (k == 0 && d->err)
			return d->err;
		p += k;
		n -= k;
		while ((rc = goipc_dec_next(d, &f)) == GOIPC_OK) {
			int r = fn(ctx, f.payload, f.len);
			if (r != 0)
				return r;
		}
		if (rc != GOIPC_MORE)
			return rc;
	}
	return GOIPC_OK;
}

/* ---- envelope ---- */

GOIPC_API int goipc_flags_check(unsigned f)
{
	if (f > 0xffu)
		return GOIPC_ERR_BAD_FLAGS;
	if ((f & GOIPC_FLAG_CONTROL) && (f & ~(GOIPC_FLAG_CONTROL | GOIPC_FLAG_JSON)) != 0)
		return GOIPC_ERR_BAD_FLAGS;
	if ((f & GOIPC_COMPRESSION_MASK) == GOIPC_COMPRESSION_MASK)
		return GOIPC_ERR_BAD_FLAGS;
	if ((f & GOIPC_FLAG_REQUEST) && (f & GOIPC_FLAG_REPLY))
		return GOIPC_ERR_BAD_FLAGS;
	if ((f & GOIPC_FLAG_ERROR) && !(f & GOIPC_FLAG_REPLY))
		return GOIPC_ERR_BAD_FLAGS;
	return GOIPC_OK;
}

GOIPC_API size_t goipc_event_header_len(size_t name_len, unsigned flags)
{
	size_t n = 3 + name_len;
	if (flags & (GOIPC_FLAG_REQUEST | GOIPC_FLAG_REPLY))
		n += 4;
	if (flags & GOIPC_FLAG_SEQ)
		n += 8;
	if (flags & GOIPC_COMPRESSION_MASK)
		n += 4;
	return n;
}

static uint32_t goipc__be32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

GOIPC_API int goipc_event_parse(const uint8_t *b, size_t n, goipc_event *ev)
{
	size_t p;
	int rc;
	ev->flags = 0;
	ev->id = 0;
	ev->seq = 0;
	ev->name = ev->data = NULL;
	ev->name_len = ev->data_len = 0;
	ev->raw_len = 0;
	if (n < 3)
		return GOIPC_ERR_TRUNCATED;
	if (b[0] != GOIPC_ENVELOPE_VERSION)
		return GOIPC_ERR_BAD_VERSION;
	rc = goipc_flags_check(b[1]);
	if (rc != GOIPC_OK)
		return rc;
	p = 3 + (size_t)b[2];
	if (n < p)
		return GOIPC_ERR_TRUNCATED;
	ev->flags = b[1];
	ev->name = b + 3;
	ev->name_len = b[2];
	if (ev->flags & (GOIPC_FLAG_REQUEST | GOIPC_FLAG_REPLY)) {
		if (n - p < 4)
			return GOIPC_ERR_TRUNCATED;
		ev->id = goipc__be32(b + p);
		p += 4;
	}
	if (ev->flags & GOIPC_FLAG_SEQ) {
		if (n - p < 8)
			return GOIPC_ERR_TRUNCATED;
		ev->seq = ((uint64_t)goipc__be32(b + p) << 32) | (uint64_t)goipc__be32(b + p + 4);
		p += 8;
	}
	if (ev->flags & GOIPC_COMPRESSION_MASK) {
		if (n - p < 4)
			return GOIPC_ERR_TRUNCATED;
		ev->raw_len = goipc__be32(b + p);
		p += 4;
		ev->data = b + p;
		ev->data_len = n - p;
	} else {
		ev->data = b + p;
		ev->data_len = n - p;
		ev->raw_len = (uint32_t)ev->data_len;
	}
	return GOIPC_OK;
}

GOIPC_API int goipc_event_check_limit(const goipc_event *ev, uint64_t limit)
{
	if ((ev->flags & GOIPC_COMPRESSION_MASK) && (uint64_t)ev->raw_len > limit)
		return GOIPC_ERR_DECOMPRESS;
	return GOIPC_OK;
}

GOIPC_API int goipc_event_payload(const goipc_event *ev, const uint8_t **data, size_t *len)
{
	*data = ev->data;
	*len = ev->data_len;
	return (ev->flags & GOIPC_COMPRESSION_MASK) ? GOIPC_ECOMPRESSED : GOIPC_OK;
}

static int goipc__event_check(size_t name_len, unsigned flags)
{
	if (name_len > GOIPC_MAX_EVENT_NAME)
		return GOIPC_ERR_NAME_TOO_LONG;
	if (goipc_flags_check(flags) != GOIPC_OK || (flags & GOIPC_COMPRESSION_MASK))
		return GOIPC_ERR_BAD_FLAGS;
	return GOIPC_OK;
}

static size_t goipc__event_header(uint8_t *dst, const char *name, size_t name_len, unsigned flags, uint32_t id,
                                  uint64_t seq)
{
	size_t p = 3, i;
	dst[0] = GOIPC_ENVELOPE_VERSION;
	dst[1] = (uint8_t)flags;
	dst[2] = (uint8_t)name_len;
	for (i = 0; i < name_len; i++)
		dst[p++] = (uint8_t)name[i];
	if (flags & (GOIPC_FLAG_REQUEST | GOIPC_FLAG_REPLY)) {
		dst[p++] = (uint8_t)(id >> 24);
		dst[p++] = (uint8_t)(id >> 16);
		dst[p++] = (uint8_t)(id >> 8);
		dst[p++] = (uint8_t)id;
	}
	if (flags & GOIPC_FLAG_SEQ) {
		int k;
		for (k = 56; k >= 0; k -= 8)
			dst[p++] = (uint8_t)(seq >> k);
	}
	return p;
}

GOIPC_API int goipc_event_encode(uint8_t *dst, size_t cap, const char *name, size_t name_len,
                                 unsigned flags, uint32_t id, const uint8_t *data, size_t n,
                                 size_t *written)
{
	return goipc_event_encode_seq(dst, cap, name, name_len, flags, id, 0, data, n, written);
}

GOIPC_API int goipc_event_encode_seq(uint8_t *dst, size_t cap, const char *name, size_t name_len,
                                     unsigned flags, uint32_t id, uint64_t seq, const uint8_t *data,
                                     size_t n, size_t *written)
{
	size_t h;
	int rc = goipc__event_check(name_len, flags);
	*written = 0;
	if (rc != GOIPC_OK)
		return rc;
	h = goipc_event_header_len(name_len, flags);
	if (n > cap || h > cap - n)
		return GOIPC_ENOSPC;
	goipc__move(dst + h, data, n);
	goipc__event_header(dst, name, name_len, flags, id, seq);
	*written = h + n;
	return GOIPC_OK;
}

GOIPC_API int goipc_event_frame(const goipc_lf *lf, uint8_t *dst, size_t cap, const char *name,
                                size_t name_len, unsigned flags, uint32_t id, const uint8_t *data,
                                size_t n, size_t *written)
{
	size_t env, total;
	int rc;
	*written = 0;
	if (cap < lf->strip)
		return GOIPC_ENOSPC;
	rc = goipc_event_encode(dst + lf->strip, cap - lf->strip, name, name_len, flags, id, data, n, &env);
	if (rc != GOIPC_OK)
		return rc;
	goipc__zero(dst, lf->strip);
	total = lf->strip + env;
	rc = goipc_lf_end(lf, dst, total);
	if (rc != GOIPC_OK)
		return rc;
	*written = total;
	return GOIPC_OK;
}

/* ---- POSIX ---- */
#ifdef GOIPC_POSIX
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* goipc__addr splits an address: kind 'u' (path in *rest) or 't' (host and
 * port copied into hbuf/pbuf). */
static int goipc__addr(const char *addr, char *kind, const char **rest, char *hbuf, size_t hcap,
                       char *pbuf, size_t pcap)
{
	const char *hp, *colon, *hs, *he;
	size_t hl, pl;
	if (strncmp(addr, "unix://", 7) == 0) {
		*kind = 'u';
		*rest = addr + 7;
		return (*rest)[0] != '\0' ? 0 : -1;
	}
	if (addr[0] == '/' || addr[0] == '.') {
		*kind = 'u';
		*rest = addr;
		return 0;
	}
	if (strncmp(addr, "tcp://", 6) != 0)
		return -1;
	*kind = 't';
	hp = addr + 6;
	colon = strrchr(hp, ':');
	if (colon == NULL)
		return -1;
	hs = hp;
	he = colon;
	if (hs[0] == '[') {
		if (he == hs || he[-1] != ']')
			return -1;
		hs++;
		he--;
	}
	hl = (size_t)(he - hs);
	pl = strlen(colon + 1);
	if (hl + 1 > hcap || pl + 1 > pcap || pl == 0)
		return -1;
	memcpy(hbuf, hs, hl);
	hbuf[hl] = '\0';
	memcpy(pbuf, colon + 1, pl + 1);
	return 0;
}

static int goipc__unix_sa(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

static int goipc__tcp(const char *host, const char *port, int listening, int backlog)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1, rc, saved = 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (listening)
		hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		errno = rc == EAI_SYSTEM ? errno : EINVAL;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (listening) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
				break;
		} else {
			while ((rc = connect(fd, ai->ai_addr, ai->ai_addrlen)) != 0 && errno == EINTR)
				;
			if (rc == 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				break;
			}
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = saved ? saved : EINVAL;
	return fd;
}

GOIPC_API int goipc_connect(const char *addr)
{
	char kind, host[256], port[32];
	const char *path = NULL;
	struct sockaddr_un sa;
	int fd, rc;
	if (goipc__addr(addr, &kind, &path, host, sizeof host, port, sizeof port) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (kind == 't')
		return goipc__tcp(host, port, 0, 0);
	if (goipc__unix_sa(path, &sa) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof sa)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

GOIPC_API int goipc_listen(const char *addr, int backlog)
{
	char kind, host[256], port[32];
	const char *path = NULL;
	struct sockaddr_un sa;
	struct stat st;
	int fd;
	if (backlog <= 0)
		backlog = 128;
	if (goipc__addr(addr, &kind, &path, host, sizeof host, port, sizeof port) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (kind == 't')
		return goipc__tcp(host, port, 1, backlog);
	if (goipc__unix_sa(path, &sa) != 0)
		return -1;
	/* replace a stale socket, never any other kind of file */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

GOIPC_API int goipc_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

GOIPC_API int goipc_accept(int lfd)
{
	int fd, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;
	do {
		len = sizeof ss;
		fd = accept(lfd, (struct sockaddr *)&ss, &len);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0 && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

GOIPC_API int goipc_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = (const uint8_t *)p;
	while (n > 0) {
		ssize_t k = write(fd, b, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return GOIPC_EIO;
		}
		b += k;
		n -= (size_t)k;
	}
	return GOIPC_OK;
}

static int goipc__writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t k = writev(fd, iov, cnt);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return GOIPC_EIO;
		}
		while (cnt > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return GOIPC_OK;
}

#define GOIPC__SEND_HDR_MAX 512

GOIPC_API int goipc_send_frame(int fd, const goipc_lf *lf, const void *payload, size_t n)
{
	uint8_t hdr[GOIPC__SEND_HDR_MAX];
	uint8_t lenb[8];
	struct iovec iov[4];
	const uint8_t *p = (const uint8_t *)payload;
	size_t hlen;
	int rc, cnt = 0;
	if (lf->strip > GOIPC__SEND_HDR_MAX)
		return GOIPC_EINVAL;
	if (lf->strip >= lf->end) {
		rc = goipc_lf_put_header(lf, hdr, sizeof hdr, n, &hlen);
		if (rc != GOIPC_OK)
			return rc;
		iov[0].iov_base = hdr;
		iov[0].iov_len = hlen;
		iov[1].iov_base = (void *)(uintptr_t)p;
		iov[1].iov_len = n;
		return goipc__writev_all(fd, iov, 2);
	}
	/* strip <= offset: the length slot is payload[offset-strip, end-strip) */
	{
		size_t a = lf->offset - lf->strip, b = lf->end - lf->strip;
		goipc_lf at0 = *lf;
		uint64_t v = 0;
		if (n > (size_t)-1 - lf->strip)
			return GOIPC_ERR_FRAME_TOO_LARGE;
		rc = goipc__len_value(lf, lf->strip + n, &v);
		if (rc != GOIPC_OK)
			return rc;
		if (n < b)
			return GOIPC_ESHORT;
		at0.offset = 0; /* the length bytes alone */
		goipc__put_len(&at0, lenb, v);
		goipc__zero(hdr, lf->strip);
		if (lf->strip > 0) {
			iov[cnt].iov_base = hdr;
			iov[cnt++].iov_len = lf->strip;
		}
		if (a > 0) {
			iov[cnt].iov_base = (void *)(uintptr_t)p;
			iov[cnt++].iov_len = a;
		}
		iov[cnt].iov_base = lenb;
		iov[cnt++].iov_len = lf->size;
		if (n > b) {
			iov[cnt].iov_base = (void *)(uintptr_t)(p + b);
			iov[cnt++].iov_len = n - b;
		}
		return goipc__writev_all(fd, iov, cnt);
	}
}

GOIPC_API int goipc_emit(int fd, const goipc_lf *lf, const char *name, unsigned flags, uint32_t id,
                         const void *data, size_t n)
{
	uint8_t hdr[GOIPC__SEND_HDR_MAX + GOIPC_EVENT_HEADER_MAX];
	struct iovec iov[2];
	size_t name_len = strlen(name), h, hlen;
	int rc;
	if (lf->strip < lf->end || lf->strip > GOIPC__SEND_HDR_MAX)
		return GOIPC_EINVAL;
	rc = goipc__event_check(name_len, flags);
	if (rc != GOIPC_OK)
		return rc;
	h = goipc_event_header_len(name_len, flags);
	if (n > (size_t)-1 - h)
		return GOIPC_ERR_FRAME_TOO_LARGE;
	rc = goipc_lf_put_header(lf, hdr, GOIPC__SEND_HDR_MAX, h + n, &hlen);
	if (rc != GOIPC_OK)
		return rc;
	goipc__event_header(hdr + hlen, name, name_len, flags, id, 0);
	iov[0].iov_base = hdr;
	iov[0].iov_len = hlen + h;
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = n;
	return goipc__writev_all(fd, iov, n > 0 ? 2 : 1);
}

GOIPC_API int goipc_recv_frame(int fd, goipc_decoder *d, goipc_frame *out)
{
	for (;;) {
		size_t room;
		uint8_t *p;
		ssize_t k;
		int rc = goipc_dec_next(d, out);
		if (rc != GOIPC_MORE)
			return rc;
		p = goipc_dec_space(d, &room);
		do {
			k = read(fd, p, room);
		} while (k < 0 && errno == EINTR);
		if (k < 0)
			return GOIPC_EIO;
		if (k == 0)
			return goipc_dec_buffered(d) == 0 ? GOIPC_EOF : GOIPC_EUNEXPECTED_EOF;
		goipc_dec_commit(d, (size_t)k);
	}
}
#endif /* GOIPC_POSIX */

#endif /* GOIPC_IMPLEMENTATION_DONE */
#endif /* GOIPC_IMPLEMENTATION */
