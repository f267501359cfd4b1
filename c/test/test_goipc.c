/*
 * test_goipc.c - checks goipc.h against the hex test vectors shared with
 * the Go implementation (testdata/vectors/lengthfield.txt, envelope.txt)
 * and a few decoder properties the vectors can't express.
 *
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -I c c/test/test_goipc.c -o t
 *   ./t testdata/vectors
 *
 * Exit status 0 when every check passes. Every record is checked; the only
 * records not checked in full are the four envelope decompression errors
 * that need a decompressor (C reports compressed payloads to the caller),
 * and they are counted and listed.
 */
#define GOIPC_IMPLEMENTATION
#include "../goipc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
		}                                                              \
	} while (0)

/* ---- vector file parsing (docs/PROTOCOL.md 8.1) ---- */

#define MAX_KEYS 24

typedef struct record {
	int line;           /* first line of the record */
	int n;
	char *key[MAX_KEYS];
	char *val[MAX_KEYS];
} record;

static const char *get(const record *r, const char *key)
{
	int i;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	return NULL;
}

static long long num(const record *r, const char *key, long long def)
{
	const char *v = get(r, key);
	return v ? strtoll(v, NULL, 10) : def;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* hex decodes v (spaces ignored) into a malloc'd buffer. */
static uint8_t *unhex(const char *v, size_t *n)
{
	size_t len = strlen(v), k = 0;
	uint8_t *out = (uint8_t *)malloc(len / 2 + 1);
	int hi = -1;
	for (; *v; v++) {
		int x;
		if (*v == ' ')
			continue;
		x = hexval((unsigned char)*v);
		if (x < 0) {
			fprintf(stderr, "bad hex digit '%c'\n", *v);
			exit(2);
		}
		if (hi < 0)
			hi = x;
		else {
			out[k++] = (uint8_t)(hi << 4 | x);
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "odd number of hex digits\n");
		exit(2);
	}
	*n = k;
	return out;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *buf;
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = (char *)malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

typedef void (*record_fn)(const record *r);

/* parse_records splits text into records and calls fn for each; returns
 * the number of records. The text is modified in place. */
static int parse_records(char *text, record_fn fn)
{
	record r;
	int count = 0, lineno = 0;
	char *line = text;
	r.n = 0;
	r.line = 0;
	for (;;) {
		char *nl = strchr(line, '\n');
		int last = nl == NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		if (line[0] == '#') {
			/* comment */
		} else if (line[0] == '\0') {
			if (r.n > 0) {
				fn(&r);
				count++;
			}
			r.n = 0;
		} else {
			char *colon = strchr(line, ':');
			char *v, *e;
			if (colon == NULL) {
				fprintf(stderr, "line %d: no ':'\n", lineno);
				exit(2);
			}
			*colon = '\0';
			v = colon + 1;
			while (*v == ' ')
				v++;
			e = v + strlen(v);
			while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
				*--e = '\0';
			if (r.n == 0)
				r.line = lineno;
			if (r.n == MAX_KEYS) {
				fprintf(stderr, "line %d: too many keys\n", lineno);
				exit(2);
			}
			r.key[r.n] = line;
			r.val[r.n] = v;
			r.n++;
		}
		if (last)
			break;
		line = nl + 1;
	}
	if (r.n > 0) {
		fn(&r);
		count++;
	}
	return count;
}

/* ---- length-field records ---- */

static struct {
	int valid, decode_only, encode_only, need, error, encode_error;
} lfc;

static uint8_t *bigbuf; /* decoder buffer, 8 MiB */
static const size_t bigcap = GOIPC_DEFAULT_MAX_FRAME;

static void lf_record(const record *r)
{
	goipc_lf_config cfg;
	goipc_lf lf;
	const char *dir = get(r, "dir");
	const char *order = get(r, "order");
	long long strip = num(r, "strip", 0);
	uint8_t *payload = NULL, *wire = NULL;
	size_t plen = 0, wlen = 0;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.offset = (uint32_t)num(r, "offset", 0);
	cfg.size = (uint32_t)num(r, "size", 4);
	cfg.little_endian = order != NULL && strcmp(order, "le") == 0;
	cfg.adjustment = (int32_t)num(r, "adjust", 0);
	cfg.includes_header = (int)num(r, "includes_header", 0);
	if (strip == 0)
		cfg.keep_header = 1;
	else
		cfg.strip = (uint32_t)strip;
	cfg.max_frame = (uint64_t)num(r, "max", GOIPC_DEFAULT_MAX_FRAME);
	rc = goipc_lf_init(&lf, &cfg);
	CHECK(rc == GOIPC_OK, "line %d: config refused: %d", r->line, rc);
	if (rc != GOIPC_OK)
		return;
	if (get(r, "payload"))
		payload = unhex(get(r, "payload"), &plen);
	if (get(r, "wire"))
		wire = unhex(get(r, "wire"), &wlen);

	if (payload && wire) {
		lfc.valid++;
		if (dir && strcmp(dir, "decode") == 0)
			lfc.decode_only++;
		if (dir && strcmp(dir, "encode") == 0)
			lfc.encode_only++;
		if (dir == NULL || strcmp(dir, "encode") == 0) {
			uint8_t *out = (uint8_t *)malloc(wlen + 16);
			size_t w = 0, h = 0;
			rc = goipc_lf_encode(&lf, out, wlen + 16, payload, plen, &w);
			CHECK(rc == GOIPC_OK && w == wlen && memcmp(out, wire, wlen) == 0,
			      "line %d: encode: rc %d, %zu bytes, want %zu", r->line, rc, w, wlen);
			/* exact-size buffer, and one byte short */
			rc = goipc_lf_encode(&lf, out, wlen, payload, plen, &w);
			CHECK(rc == GOIPC_OK && w == wlen, "line %d: encode into exact buffer: %d", r->line, rc);
			if (wlen > 0) {
				rc = goipc_lf_encode(&lf, out, wlen - 1, payload, plen, &w);
				CHECK(rc == GOIPC_ENOSPC && w == 0, "line %d: encode into short buffer: %d", r->line, rc);
			}
			/* in place: payload already behind the reserved strip bytes */
			memset(out, 0xAA, wlen + 16);
			memcpy(out + goipc_lf_strip(&lf), payload, plen);
			rc = goipc_lf_encode(&lf, out, wlen + 16, out + goipc_lf_strip(&lf), plen, &w);
			CHECK(rc == GOIPC_OK && w == wlen && memcmp(out, wire, wlen) == 0,
			      "line %d: encode in place: rc %d", r->line, rc);
			/* header alone, for writev */
			if (goipc_lf_strip(&lf) >= goipc_lf_header_len(&lf)) {
				uint8_t hdr[600];
				rc = goipc_lf_put_header(&lf, hdr, sizeof hdr, plen, &h);
				CHECK(rc == GOIPC_OK && h == goipc_lf_strip(&lf) && h + plen == wlen &&
				          memcmp(hdr, wire, h) == 0,
				      "line %d: put_header: rc %d", r->line, rc);
			}
			free(out);
		}
		if (dir == NULL || strcmp(dir, "decode") == 0) {
			goipc_frame f;
			goipc_decoder d;
			size_t i, got = 0;
			rc = goipc_lf_parse(&lf, wire, wlen, &f);
			CHECK(rc == GOIPC_OK && f.consumed == wlen && f.len == plen &&
			          memcmp(f.payload, payload, plen) == 0,
			      "line %d: decode: rc %d consumed %zu len %zu", r->line, rc, f.consumed, f.len);
			/* every proper prefix is "need more", never an error */
			for (i = 0; i < wlen; i++) {
				rc = goipc_lf_parse(&lf, wire, i, &f);
				if (rc != GOIPC_MORE) {
					CHECK(0, "line %d: prefix of %zu bytes: rc %d", r->line, i, rc);
					break;
				}
			}
			/* incremental decoder, one byte at a time */
			if (lf.max_frame <= bigcap) {
				goipc_dec_init(&d, &lf, bigbuf, bigcap);
				for (i = 0; i < wlen; i++) {
					CHECK(goipc_dec_feed(&d, wire + i, 1) == 1, "line %d: feed", r->line);
					while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) {
						CHECK(i == wlen - 1 && f.len == plen && memcmp(f.payload, payload, plen) == 0,
						      "line %d: byte-wise decoder frame at %zu", r->line, i);
						got++;
					}
					CHECK(rc == GOIPC_MORE, "line %d: byte-wise decoder rc %d", r->line, rc);
				}
				CHECK(got == 1 && goipc_dec_buffered(&d) == 0, "line %d: byte-wise decoder got %zu frames",
				      r->line, got);
				/* three coalesced copies in one feed */
				goipc_dec_reset(&d);
				got = 0;
				for (i = 0; i < 3; i++)
					goipc_dec_feed(&d, wire, wlen);
				while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) {
					CHECK(f.len == plen && memcmp(f.payload, payload, plen) == 0,
					      "line %d: coalesced frame %zu", r->line, got);
					got++;
				}
				CHECK(rc == GOIPC_MORE && got == 3, "line %d: coalesced: rc %d, %zu frames", r->line, rc, got);
			}
		}
	} else if (wire && get(r, "error")) {
		goipc_frame f;
		long long code = num(r, "error", 0);
		lfc.error++;
		rc = goipc_lf_parse(&lf, wire, wlen, &f);
		CHECK(rc == code, "line %d: decode error: rc %d, want %lld", r->line, rc, code);
		/* decided from the header alone: the first header_len bytes give it */
		rc = goipc_lf_parse(&lf, wire, goipc_lf_header_len(&lf), &f);
		CHECK(rc == code, "line %d: error from the header alone: rc %d, want %lld", r->line, rc, code);
		if (lf.max_frame <= bigcap) {
			goipc_decoder d;
			size_t i;
			goipc_dec_init(&d, &lf, bigbuf, bigcap);
			for (i = 0; i < wlen; i++) {
				goipc_dec_feed(&d, wire + i, 1);
				rc = goipc_dec_next(&d, &f);
				if (i + 1 < goipc_lf_header_len(&lf))
					CHECK(rc == GOIPC_MORE, "line %d: decoder before header: %d", r->line, rc);
				else
					CHECK(rc == code, "line %d: decoder at %zu: rc %d, want %lld", r->line, i, rc, code);
			}
			/* sticky, and no more bytes taken */
			CHECK(goipc_dec_next(&d, &f) == code, "line %d: sticky", r->line);
			CHECK(goipc_dec_feed(&d, wire, wlen) == 0 || wlen == 0, "line %d: feed after error", r->line);
		}
	} else if (wire && get(r, "need")) {
		goipc_frame f;
		long long need = num(r, "need", 0);
		lfc.need++;
		rc = goipc_lf_parse(&lf, wire, wlen, &f);
		CHECK(rc == GOIPC_MORE && (long long)f.need == need, "line %d: need: rc %d need %llu, want %lld",
		      r->line, rc, (unsigned long long)f.need, need);
	} else if (payload && get(r, "encode_error")) {
		long long code = num(r, "encode_error", 0);
		size_t cap = plen + 65536 + 16, w = 12345, i;
		int same = 1;
		uint8_t *out = (uint8_t *)malloc(cap);
		lfc.encode_error++;
		memset(out, 0xAA, cap);
		rc = goipc_lf_encode(&lf, out, cap, payload, plen, &w);
		for (i = 0; i < cap; i++)
			if (out[i] != 0xAA)
				same = 0;
		CHECK(rc == code && w == 0 && same, "line %d: encode error: rc %d, want %lld, untouched %d", r->line,
		      rc, code, same);
		free(out);
	} else {
		CHECK(0, "line %d: record of unknown kind", r->line);
	}
	free(payload);
	free(wire);
}

/* ---- envelope records ---- */

static struct {
	int valid, compressed, error, limit_checked, need_decompressor, encode_error;
} evc;

static void ev_record(const record *r)
{
	const char *dir = get(r, "dir");
	uint8_t *name = NULL, *payload = NULL, *wire = NULL, *framed = NULL;
	size_t nlen = 0, plen = 0, wlen = 0, flen = 0;
	unsigned flags = 0;
	uint32_t id = (uint32_t)num(r, "id", 0);
	uint64_t seq = (uint64_t)num(r, "seq", 0);
	uint64_t limit = (uint64_t)num(r, "limit", 8388608);
	goipc_lf lf;
	goipc_event ev;
	int rc;

	goipc_lf_init(&lf, NULL);
	if (get(r, "name"))
		name = unhex(get(r, "name"), &nlen);
	if (get(r, "flags"))
		flags = (unsigned)strtoul(get(r, "flags"), NULL, 16);
	if (get(r, "payload"))
		payload = unhex(get(r, "payload"), &plen);
	if (get(r, "wire"))
		wire = unhex(get(r, "wire"), &wlen);
	if (get(r, "frame"))
		framed = unhex(get(r, "frame"), &flen);

	if (payload && wire) {
		evc.valid++;
		if (dir == NULL || strcmp(dir, "encode") == 0) {
			size_t cap = wlen + 64, w = 0;
			uint8_t *out = (uint8_t *)malloc(cap);
			rc = goipc_event_encode_seq(out, cap, (const char *)name, nlen, flags, id, seq, payload, plen, &w);
			CHECK(rc == GOIPC_OK && w == wlen && memcmp(out, wire, wlen) == 0, "line %d: event encode: rc %d",
			      r->line, rc);
			CHECK(goipc_event_header_len(nlen, flags) + plen == wlen, "line %d: header_len", r->line);
			if (framed && !(flags & GOIPC_FLAG_SEQ)) {
				rc = goipc_event_frame(&lf, out, cap, (const char *)name, nlen, flags, id, payload, plen, &w);
				CHECK(rc == GOIPC_OK && w == flen && memcmp(out, framed, flen) == 0,
				      "line %d: event frame: rc %d", r->line, rc);
			}
			rc = goipc_event_encode_seq(out, wlen - 1, (const char *)name, nlen, flags, id, seq, payload, plen, &w);
			CHECK(rc == GOIPC_ENOSPC, "line %d: event encode short buffer: %d", r->line, rc);
			free(out);
		}
		if (dir == NULL || strcmp(dir, "decode") == 0) {
			const uint8_t *data;
			size_t dlen;
			rc = goipc_event_parse(wire, wlen, &ev);
			CHECK(rc == GOIPC_OK && ev.flags == flags && ev.id == id && ev.seq == seq && ev.name_len == nlen &&
			          (nlen == 0 || memcmp(ev.name, name, nlen) == 0),
			      "line %d: event parse: rc %d flags %02x id %u", r->line, rc, ev.flags, ev.id);
			if (goipc_event_compression(&ev) == 0) {
				CHECK(goipc_event_payload(&ev, &data, &dlen) == GOIPC_OK && dlen == plen &&
				          memcmp(data, payload, plen) == 0,
				      "line %d: event payload", r->line);
			} else {
				/* C does not decompress: it reports the payload as
				 * compressed, with the declared length, checked
				 * against the limit */
				evc.compressed++;
				CHECK(goipc_event_payload(&ev, &data, &dlen) == GOIPC_ECOMPRESSED && ev.raw_len == plen &&
				          goipc_event_check_limit(&ev, limit) == GOIPC_OK &&
				          data + dlen == wire + wlen,
				      "line %d: compressed event: raw_len %u want %zu", r->line, ev.raw_len, plen);
			}
			if (framed) {
				goipc_frame f;
				rc = goipc_lf_parse(&lf, framed, flen, &f);
				CHECK(rc == GOIPC_OK && f.consumed == flen && f.len == wlen && memcmp(f.payload, wire, wlen) == 0,
				      "line %d: framed envelope", r->line);
			}
		}
	} else if (wire && get(r, "error")) {
		long long code = num(r, "error", 0);
		evc.error++;
		rc = goipc_event_parse(wire, wlen, &ev);
		if (code == GOIPC_ERR_DECOMPRESS) {
			CHECK(rc == GOIPC_OK && goipc_event_compression(&ev) != 0, "line %d: error-14 record must parse: %d",
			      r->line, rc);
			if (goipc_event_check_limit(&ev, limit) == GOIPC_ERR_DECOMPRESS) {
				evc.limit_checked++;
			} else {
				evc.need_decompressor++;
				printf("  envelope.txt line %d: error 14 needs a decompressor (%s, declared %u): "
				       "reported as compressed, not checked further\n",
				       r->line, goipc_event_compression(&ev) == 1 ? "s2" : "zstd", ev.raw_len);
			}
		} else {
			CHECK(rc == code, "line %d: event parse error: rc %d, want %lld", r->line, rc, code);
		}
	} else if (get(r, "encode_error")) {
		long long code = num(r, "encode_error", 0);
		uint8_t out[600];
		size_t w = 1;
		evc.encode_error++;
		rc = goipc_event_encode(out, sizeof out, (const char *)name, nlen, flags, id, payload, plen, &w);
		CHECK(rc == code && w == 0, "line %d: event encode error: rc %d, want %lld", r->line, rc, code);
	} else {
		CHECK(0, "line %d: record of unknown kind", r->line);
	}
	free(name);
	free(payload);
	free(wire);
	free(framed);
}

/* ---- properties beyond the vectors ---- */

static int count_frame(void *ctx, const uint8_t *p, size_t n)
{
	size_t *seen = (size_t *)ctx;
	size_t i;
	/* frame k carries k bytes of value k */
	if (n != *seen)
		return 100;
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)n)
			return 101;
	(*seen)++;
	return 0;
}

static void unit_tests(void)
{
	goipc_lf_config cfg;
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	static uint8_t small[64];
	static uint8_t stream[64 * 70];
	uint8_t payload[64];
	size_t n = 0, k, w, seen;
	int rc, i;

	/* invalid configurations, as NewLengthField refuses them */
	memset(&cfg, 0, sizeof cfg);
	cfg.size = 5;
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_EINVAL, "size 5");
	cfg.size = 2;
	cfg.offset = 1;
	cfg.strip = 2; /* inside the field */
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_EINVAL, "strip inside the field");
	memset(&cfg, 0, sizeof cfg);
	cfg.keep_header = 1;
	cfg.strip = 3;
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_EINVAL, "keep_header with strip");
	memset(&cfg, 0, sizeof cfg);
	cfg.max_frame = 3; /* below the 4-byte header */
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_EINVAL, "max below header");
	memset(&cfg, 0, sizeof cfg);
	cfg.adjustment = (1 << 30) + 1;
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_EINVAL, "adjustment range");
	CHECK(goipc_lf_init(&lf, NULL) == GOIPC_OK && lf.end == 4 && lf.strip == 4 && lf.max_frame == 8388608 &&
	          lf.max_len == 8388604,
	      "default config");

	/* decoder buffer must hold max_frame */
	memset(&cfg, 0, sizeof cfg);
	cfg.size = 2;
	cfg.little_endian = 1;
	cfg.max_frame = sizeof small;
	CHECK(goipc_lf_init(&lf, &cfg) == GOIPC_OK, "small config");
	CHECK(goipc_dec_init(&d, &lf, small, sizeof small - 1) == GOIPC_EINVAL, "decoder buffer below max frame");
	CHECK(goipc_dec_init(&d, &lf, small, sizeof small) == GOIPC_OK, "decoder init");

	/* frames 0..62 bytes (max 64 with the 2-byte header), pushed in every
	 * chunk size from 1 to 97, through a 64-byte buffer */
	for (k = 0; k <= 62; k++) {
		memset(payload, (int)k, k);
		rc = goipc_lf_encode(&lf, stream + n, sizeof stream - n, payload, k, &w);
		CHECK(rc == GOIPC_OK, "encode %zu", k);
		n += w;
	}
	for (i = 1; i <= 97; i++) {
		size_t off = 0;
		goipc_dec_reset(&d);
		seen = 0;
		rc = GOIPC_OK;
		while (off < n && rc == GOIPC_OK) {
			size_t c = (size_t)i < n - off ? (size_t)i : n - off;
			rc = goipc_dec_push(&d, stream + off, c, count_frame, &seen);
			off += c;
		}
		CHECK(rc == GOIPC_OK && seen == 63 && goipc_dec_buffered(&d) == 0, "chunk %d: rc %d, %zu frames", i, rc,
		      seen);
	}
	/* a 63-byte payload is one too many */
	rc = goipc_lf_encode(&lf, stream, sizeof stream, payload, 63, &w);
	CHECK(rc == GOIPC_ERR_FRAME_TOO_LARGE, "encode over max: %d", rc);

	/* oversize claim: refused from the 2 header bytes, nothing else read */
	goipc_dec_reset(&d);
	{
		uint8_t hdr[2] = {0x3f, 0x00}; /* 63 + 2 = 65 > 64 */
		CHECK(goipc_dec_feed(&d, hdr, 1) == 1 && goipc_dec_next(&d, &f) == GOIPC_MORE && f.need == 2, "half header");
		CHECK(goipc_dec_feed(&d, hdr + 1, 1) == 1 && goipc_dec_next(&d, &f) == GOIPC_ERR_FRAME_TOO_LARGE,
		      "oversize claim");
		CHECK(goipc_dec_feed(&d, hdr, 1) == 0, "no input after an error");
		goipc_dec_space(&d, &k);
		CHECK(k == 0, "no room after an error");
		CHECK(goipc_dec_push(&d, hdr, 2, count_frame, &seen) == GOIPC_ERR_FRAME_TOO_LARGE, "push after error");
	}

	/* 8-byte field: huge and negative values */
	memset(&cfg, 0, sizeof cfg);
	cfg.size = 8;
	goipc_lf_init(&lf, &cfg);
	{
		uint8_t neg[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
		uint8_t big[8] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		CHECK(goipc_lf_parse(&lf, neg, 8, &f) == GOIPC_ERR_CORRUPT_LENGTH, "negative 8-byte");
		CHECK(goipc_lf_parse(&lf, big, 8, &f) == GOIPC_ERR_FRAME_TOO_LARGE, "huge 8-byte");
	}

	/* envelope round trip inside a little-endian 2-byte frame, and the
	 * encoder refusing compression bits */
	memset(&cfg, 0, sizeof cfg);
	cfg.size = 2;
	cfg.little_endian = 1;
	goipc_lf_init(&lf, &cfg);
	{
		uint8_t buf[64];
		goipc_event ev;
		rc = goipc_event_frame(&lf, buf, sizeof buf, "sum", 3, GOIPC_FLAG_REQUEST | GOIPC_FLAG_JSON, 7,
		                       (const uint8_t *)"[1,2]", 5, &w);
		CHECK(rc == GOIPC_OK && w == 2 + 3 + 3 + 4 + 5 && buf[0] == 15 && buf[1] == 0, "event frame LE");
		rc = goipc_lf_parse(&lf, buf, w, &f);
		CHECK(rc == GOIPC_OK && goipc_event_parse(f.payload, f.len, &ev) == GOIPC_OK && ev.id == 7 &&
		          ev.data_len == 5 && memcmp(ev.data, "[1,2]", 5) == 0,
		      "event round trip");
		CHECK(goipc_event_encode(buf, sizeof buf, "x", 1, GOIPC_FLAG_S2, 0, NULL, 0, &w) == GOIPC_ERR_BAD_FLAGS,
		      "no compressed encode");
	}
	CHECK(strcmp(goipc_strerror(GOIPC_ERR_FRAME_TOO_LARGE), "frame too large") == 0, "strerror");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "testdata/vectors";
	char path[4096];
	char *text;
	int n;

	bigbuf = (uint8_t *)malloc(bigcap);

	snprintf(path, sizeof path, "%s/lengthfield.txt", dir);
	text = read_file(path);
	n = parse_records(text, lf_record);
	free(text);
	printf("lengthfield.txt: %d records: %d valid (%d decode-only, %d encode-only), %d need, %d error, %d "
	       "encode_error\n",
	       n, lfc.valid, lfc.decode_only, lfc.encode_only, lfc.need, lfc.error, lfc.encode_error);
	CHECK(n == lfc.valid + lfc.need + lfc.error + lfc.encode_error, "every lengthfield record classified");

	snprintf(path, sizeof path, "%s/envelope.txt", dir);
	text = read_file(path);
	n = parse_records(text, ev_record);
	free(text);
	printf("envelope.txt: %d records: %d valid (%d compressed: declared length and limit checked, payload "
	       "reported compressed), %d error (%d of them error 14: %d decided from the declared length, %d need a "
	       "decompressor), %d encode_error\n",
	       n, evc.valid, evc.compressed, evc.error, evc.limit_checked + evc.need_decompressor, evc.limit_checked,
	       evc.need_decompressor, evc.encode_error);
	CHECK(n == evc.valid + evc.error + evc.encode_error, "every envelope record classified");

	unit_tests();
	free(bigbuf);

	printf("%d checks, %d failures\n", checks, failures);
	if (failures) {
		printf("FAIL\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
