/*
 * peer.c - a C peer for the interop tests and benchmarks in ctest/, built
 * on goipc.h with GOIPC_POSIX. All framing is goipc's default (4-byte
 * big-endian length, max frame 8 MiB).
 *
 *   peer echo-server ADDR          echo every frame back (fork per connection)
 *   peer event-server ADDR         answer envelope requests (reply = request data)
 *   peer sink ADDR                 C reference receiver: count frames of one
 *                                  connection with batched reads, print rate
 *   peer client ADDR MODE [ARG]    MODE: sizes | split | coalesced | oversize |
 *                                  garbage SEED | events
 *   peer bench ADDR N              stream N 64-byte frames, batched writes
 *
 * Servers print "listening ADDR" (tcp port 0 resolved) on stdout once ready.
 * Payload pattern of frame s, byte i: (s*7 + i*13 + (i>>8)) & 0xff.
 */
#define GOIPC_IMPLEMENTATION
#define GOIPC_POSIX
#include "../goipc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME GOIPC_DEFAULT_MAX_FRAME

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "peer: %s: %s (%d)%s%s\n", what, goipc_strerror(rc), rc, rc == GOIPC_EIO ? ": " : "",
	        rc == GOIPC_EIO ? strerror(errno) : "");
	exit(1);
}

static uint8_t pattern(uint32_t s, size_t i) { return (uint8_t)(s * 7u + i * 13u + (i >> 8)); }

static void fill(uint8_t *p, size_t n, uint32_t s)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = pattern(s, i);
}

static int check(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != pattern(s, i))
			return 0;
	return 1;
}

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = (uint8_t *)malloc(n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "peer: out of memory\n");
		exit(1);
	}
	return p;
}

static int serve_listen(const char *addr)
{
	int lfd = goipc_listen(addr, 64);
	if (lfd < 0) {
		fprintf(stderr, "peer: listen %s: %s\n", addr, strerror(errno));
		exit(1);
	}
	if (strncmp(addr, "tcp://", 6) == 0)
		printf("listening tcp://127.0.0.1:%d\n", goipc_local_port(lfd));
	else
		printf("listening %s\n", addr);
	fflush(stdout);
	return lfd;
}

/* ---- servers ---- */

static void echo_conn(int fd, int events)
{
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	uint8_t *buf = xmalloc(MAX_FRAME);
	unsigned long frames = 0;
	int rc;
	goipc_lf_init(&lf, NULL);
	goipc_dec_init(&d, &lf, buf, MAX_FRAME);
	while ((rc = goipc_recv_frame(fd, &d, &f)) == GOIPC_OK) {
		frames++;
		if (!events) {
			rc = goipc_send_frame(fd, &lf, f.payload, f.len);
		} else {
			goipc_event ev;
			char name[256];
			const uint8_t *data;
			size_t n;
			rc = goipc_event_parse(f.payload, f.len, &ev);
			if (rc != GOIPC_OK)
				break; /* not an envelope: close, as goipc does */
			memcpy(name, ev.name, ev.name_len);
			name[ev.name_len] = '\0';
			if (goipc_event_check_limit(&ev, MAX_FRAME) != GOIPC_OK) {
				rc = GOIPC_ERR_DECOMPRESS;
				break;
			}
			if (goipc_event_payload(&ev, &data, &n) == GOIPC_ECOMPRESSED) {
				/* no decompressor in C: refuse the request politely */
				static const char msg[] = "compressed payloads are not supported by this C peer";
				rc = (ev.flags & GOIPC_FLAG_REQUEST)
				         ? goipc_emit(fd, &lf, name, GOIPC_FLAG_REPLY | GOIPC_FLAG_ERROR, ev.id, msg,
				                      sizeof msg - 1)
				         : GOIPC_OK;
			} else if (ev.flags & GOIPC_FLAG_REQUEST) {
				rc = goipc_emit(fd, &lf, name, GOIPC_FLAG_REPLY | (ev.flags & GOIPC_FLAG_JSON), ev.id, data, n);
			} else {
				/* an event: echo it as an event named "echo:" + name */
				char echo[300];
				snprintf(echo, sizeof echo, "echo:%s", name);
				rc = goipc_emit(fd, &lf, echo, ev.flags & GOIPC_FLAG_JSON, 0, data, n);
			}
		}
		if (rc != GOIPC_OK)
			break;
	}
	if (rc == GOIPC_EOF)
		fprintf(stderr, "peer: connection closed after %lu frames\n", frames);
	else
		fprintf(stderr, "peer: closing connection after %lu frames: %s (%d)\n", frames, goipc_strerror(rc), rc);
	close(fd);
	free(buf);
}

static int run_server(const char *addr, int events)
{
	int lfd = serve_listen(addr);
	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		pid_t pid;
		int fd = goipc_accept(lfd);
		if (fd < 0) {
			perror("peer: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			echo_conn(fd, events);
			_exit(0);
		}
		close(fd);
	}
}

static int run_sink(const char *addr)
{
	int lfd = serve_listen(addr), fd;
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	uint8_t *buf = xmalloc(MAX_FRAME);
	unsigned long long frames = 0, bytes = 0;
	double t0 = 0, t1 = 0;
	int rc = GOIPC_OK;
	goipc_lf_init(&lf, NULL);
	goipc_dec_init(&d, &lf, buf, MAX_FRAME);
	fd = goipc_accept(lfd);
	if (fd < 0) {
		perror("peer: accept");
		return 1;
	}
	for (;;) {
		size_t room;
		uint8_t *p = goipc_dec_space(&d, &room);
		ssize_t k = read(fd, p, room > (256u << 10) ? (256u << 10) : room);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (frames == 0 && t0 == 0)
			t0 = now();
		goipc_dec_commit(&d, (size_t)k);
		while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) {
			frames++;
			bytes += f.len;
		}
		if (rc != GOIPC_MORE)
			break;
		t1 = now();
	}
	if (rc != GOIPC_MORE && rc != GOIPC_OK) {
		fprintf(stderr, "peer: sink: %s\n", goipc_strerror(rc));
		return 1;
	}
	printf("received %llu frames (%llu payload bytes) in %.6f s: %.0f frames/s\n", frames, bytes, t1 - t0,
	       t1 > t0 ? (double)frames / (t1 - t0) : 0.0);
	return 0;
}

/* ---- clients ---- */

static int connect_or_die(const char *addr)
{
	int fd = goipc_connect(addr);
	if (fd < 0) {
		fprintf(stderr, "peer: connect %s: %s\n", addr, strerror(errno));
		exit(1);
	}
	return fd;
}

/* expect reads back n frames s0.. with the sizes given */
static void expect_echoes(int fd, goipc_decoder *d, const size_t *sizes, size_t count, uint32_t s0)
{
	goipc_frame f;
	size_t i;
	for (i = 0; i < count; i++) {
		int rc = goipc_recv_frame(fd, d, &f);
		if (rc != GOIPC_OK)
			die("reading an echo", rc);
		if (f.len != sizes[i] || !check(f.payload, f.len, s0 + (uint32_t)i)) {
			fprintf(stderr, "peer: echo %zu: %zu bytes, want %zu, or wrong content\n", i, f.len, sizes[i]);
			exit(1);
		}
	}
}

static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 64, 255, 256, 257, 1000, 4095, 4096, 4097, 65535, 65536, 65537,
                               100000, 262144, 524288, 1048575, 1048576};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void write_split(int fd, const uint8_t *p, size_t n, unsigned *seed)
{
	while (n > 0) {
		size_t k = 1 + (size_t)(rand_r(seed) % 7);
		int rc;
		if (k > n)
			k = n;
		if (n > 4096 && rand_r(seed) % 2)
			k = 1 + (size_t)(rand_r(seed) % 3000);
		rc = goipc_write_all(fd, p, k);
		if (rc != GOIPC_OK)
			die("split write", rc);
		p += k;
		n -= k;
		if (rand_r(seed) % 50 == 0) {
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
	}
}

/* wait_close reads until the peer closes; returns ms waited or -1 on timeout */
static long wait_close(int fd, int timeout_ms)
{
	double t0 = now();
	uint8_t scratch[4096];
	for (;;) {
		struct pollfd pfd;
		long left = timeout_ms - (long)((now() - t0) * 1000);
		ssize_t k;
		if (left <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		k = read(fd, scratch, sizeof scratch);
		if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
			return (long)((now() - t0) * 1000);
	}
}

static int run_client(const char *addr, const char *mode, const char *arg)
{
	int fd = connect_or_die(addr);
	goipc_lf lf;
	goipc_decoder d;
	uint8_t *rbuf = xmalloc(MAX_FRAME);
	uint8_t *p = xmalloc(1 << 20);
	size_t i;
	int rc;
	unsigned seed = 12345;
	signal(SIGPIPE, SIG_IGN);
	goipc_lf_init(&lf, NULL);
	goipc_dec_init(&d, &lf, rbuf, MAX_FRAME);

	if (strcmp(mode, "sizes") == 0) {
		/* one at a time, then all of them pipelined */
		for (i = 0; i < NSIZES; i++) {
			fill(p, sizes[i], (uint32_t)i);
			if ((rc = goipc_send_frame(fd, &lf, p, sizes[i])) != GOIPC_OK)
				die("send", rc);
			expect_echoes(fd, &d, &sizes[i], 1, (uint32_t)i);
		}
		printf("ok: %zu frames of 0..1048576 bytes echoed\n", NSIZES);
	} else if (strcmp(mode, "split") == 0) {
		uint8_t *frame = xmalloc((1 << 20) + 4);
		for (i = 0; i < NSIZES; i++) {
			size_t w;
			fill(p, sizes[i], (uint32_t)i);
			if ((rc = goipc_lf_encode(&lf, frame, (1 << 20) + 4, p, sizes[i], &w)) != GOIPC_OK)
				die("encode", rc);
			write_split(fd, frame, w, &seed);
			expect_echoes(fd, &d, &sizes[i], 1, (uint32_t)i);
		}
		free(frame);
		printf("ok: %zu frames written in 1..3000-byte pieces echoed\n", NSIZES);
	} else if (strcmp(mode, "coalesced") == 0) {
		/* 2000 frames of 0..199 bytes in one write */
		enum { N = 2000 };
		static size_t szs[N];
		size_t off = 0, cap = N * 204, w;
		uint8_t *all = xmalloc(cap);
		for (i = 0; i < N; i++) {
			szs[i] = i % 200;
			fill(p, szs[i], (uint32_t)i);
			if ((rc = goipc_lf_encode(&lf, all + off, cap - off, p, szs[i], &w)) != GOIPC_OK)
				die("encode", rc);
			off += w;
		}
		if ((rc = goipc_write_all(fd, all, off)) != GOIPC_OK)
			die("write", rc);
		expect_echoes(fd, &d, szs, N, 0);
		free(all);
		printf("ok: %d coalesced frames (%zu bytes in one write) echoed\n", N, off);
	} else if (strcmp(mode, "oversize") == 0) {
		/* a header claiming 2 GiB - 1, then a little of the body */
		uint8_t hdr[4 + 16] = {0x7f, 0xff, 0xff, 0xff};
		long ms;
		memset(hdr + 4, 'x', 16);
		if ((rc = goipc_write_all(fd, hdr, sizeof hdr)) != GOIPC_OK)
			die("write", rc);
		ms = wait_close(fd, 5000);
		if (ms < 0) {
			fprintf(stderr, "peer: the server did not close an oversize frame within 5 s\n");
			return 1;
		}
		printf("ok: closed %ld ms after an oversize header\n", ms);
	} else if (strcmp(mode, "garbage") == 0) {
		unsigned gs = arg ? (unsigned)strtoul(arg, NULL, 10) : 1;
		size_t n = 1 + (size_t)(rand_r(&gs) % 65536);
		long ms;
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)rand_r(&gs);
		rc = goipc_write_all(fd, p, n);
		if (rc != GOIPC_OK && errno != EPIPE && errno != ECONNRESET)
			die("write", rc);
		shutdown(fd, SHUT_WR);
		ms = wait_close(fd, 5000);
		printf("ok: %zu garbage bytes, %s %ld ms\n", n, ms < 0 ? "still open after" : "closed after",
		       ms < 0 ? 5000 : ms);
	} else if (strcmp(mode, "events") == 0) {
		/* requests with ids, answered by a Go handler echoing the data;
		 * then an event that the Go side answers with an emit */
		goipc_frame f;
		goipc_event ev;
		uint32_t id;
		for (id = 1; id <= 100; id++) {
			size_t n = (id * 37) % 3000;
			fill(p, n, id);
			if ((rc = goipc_emit(fd, &lf, "echo", GOIPC_FLAG_REQUEST, id, p, n)) != GOIPC_OK)
				die("emit", rc);
			if ((rc = goipc_recv_frame(fd, &d, &f)) != GOIPC_OK)
				die("recv reply", rc);
			if ((rc = goipc_event_parse(f.payload, f.len, &ev)) != GOIPC_OK)
				die("parse reply", rc);
			if (ev.flags != GOIPC_FLAG_REPLY || ev.id != id || ev.data_len != n || !check(ev.data, n, id) ||
			    ev.name_len != 4 || memcmp(ev.name, "echo", 4) != 0) {
				fprintf(stderr, "peer: bad reply to request %u: flags %02x id %u len %zu\n", id, ev.flags,
				        ev.id, ev.data_len);
				return 1;
			}
		}
		if ((rc = goipc_emit(fd, &lf, "hello", GOIPC_FLAG_JSON, 0, "{\"from\":\"c\"}", 12)) != GOIPC_OK)
			die("emit", rc);
		if ((rc = goipc_recv_frame(fd, &d, &f)) != GOIPC_OK)
			die("recv", rc);
		if ((rc = goipc_event_parse(f.payload, f.len, &ev)) != GOIPC_OK)
			die("parse", rc);
		printf("ok: 100 requests answered; got event %.*s: %.*s\n", (int)ev.name_len, (const char *)ev.name,
		       (int)ev.data_len, (const char *)ev.data);
	} else {
		fprintf(stderr, "peer: unknown client mode %s\n", mode);
		return 2;
	}
	close(fd);
	free(rbuf);
	free(p);
	return 0;
}

static int run_bench(const char *addr, unsigned long long n)
{
	int fd = connect_or_die(addr);
	goipc_lf lf;
	enum { PAYLOAD = 64, FRAME = PAYLOAD + 4, PER_BATCH = 1024 };
	static uint8_t batch[FRAME * PER_BATCH];
	uint8_t payload[PAYLOAD];
	unsigned long long sent = 0;
	size_t i, w;
	double t0, t1;
	int rc;
	goipc_lf_init(&lf, NULL);
	fill(payload, PAYLOAD, 1);
	for (i = 0; i < PER_BATCH; i++)
		if ((rc = goipc_lf_encode(&lf, batch + i * FRAME, FRAME, payload, PAYLOAD, &w)) != GOIPC_OK)
			die("encode", rc);
	t0 = now();
	while (sent < n) {
		unsigned long long k = n - sent < PER_BATCH ? n - sent : PER_BATCH;
		if ((rc = goipc_write_all(fd, batch, (size_t)k * FRAME)) != GOIPC_OK)
			die("write", rc);
		sent += k;
	}
	t1 = now();
	close(fd);
	printf("sent %llu frames of %d bytes in %.6f s: %.0f frames/s (writes of %d frames)\n", sent, PAYLOAD,
	       t1 - t0, t1 > t0 ? (double)sent / (t1 - t0) : 0.0, PER_BATCH);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "echo-server") == 0)
		return run_server(argv[2], 0);
	if (argc >= 3 && strcmp(argv[1], "event-server") == 0)
		return run_server(argv[2], 1);
	if (argc >= 3 && strcmp(argv[1], "sink") == 0)
		return run_sink(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "client") == 0)
		return run_client(argv[2], argv[3], argc >= 5 ? argv[4] : NULL);
	if (argc >= 4 && strcmp(argv[1], "bench") == 0)
		return run_bench(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: peer echo-server|event-server|sink ADDR | client ADDR MODE [ARG] | bench ADDR N\n");
	return 2;
}
