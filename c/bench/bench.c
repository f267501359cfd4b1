/*
 * bench.c - the C reference for `goipc bench --compare` (bench/ in Go).
 * Built at run time with gcc -O2 on c/goipc.h (GOIPC_POSIX). Every stream
 * workload uses goipc's default framing (4-byte big-endian length) and
 * batches: one read of up to 256 KiB decodes every frame in it, and writes
 * carry as many frames as are ready (at least 64 KiB when streaming).
 *
 *   bench stream-sink ADDR               accept one connection, count frames
 *                                        until EOF: "frames N secs S"
 *   bench stream-send ADDR SIZE SECS     stream SIZE-byte frames for SECS
 *   bench echo ADDR                      echo server (fork per connection):
 *                                        every frame of a read goes back in
 *                                        one write
 *   bench rtt ADDR SIZE WINDOW SECS      keep WINDOW frames in flight for
 *                                        SECS: "n N secs S p50 A p99 B p999 C"
 *                                        (round-trip µs)
 *   bench udp-sink ADDR SECS             recvmmsg, count datagrams for SECS
 *                                        after the first: "frames N secs S"
 *   bench udp-send ADDR SIZE SECS        sendmmsg batches of 64 for SECS
 *
 * Servers print "listening ADDR" (port 0 resolved) once ready.
 */
#define _GNU_SOURCE
#define GOIPC_IMPLEMENTATION
#define GOIPC_POSIX
#include "../goipc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF (256u << 10)
#define MAX_FRAME (RBUF)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	return p;
}

static int do_listen(const char *addr)
{
	int lfd = goipc_listen(addr, 1024);
	if (lfd < 0)
		fail("listen");
	if (strncmp(addr, "tcp://", 6) == 0)
		printf("listening tcp://127.0.0.1:%d\n", goipc_local_port(lfd));
	else
		printf("listening %s\n", addr);
	fflush(stdout);
	return lfd;
}

static int do_connect(const char *addr)
{
	int fd = goipc_connect(addr);
	if (fd < 0)
		fail("connect");
	return fd;
}

static void init_dec(goipc_lf *lf, goipc_decoder *d)
{
	goipc_lf_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.max_frame = MAX_FRAME;
	if (goipc_lf_init(lf, &cfg) != GOIPC_OK || goipc_dec_init(d, lf, xmalloc(2 * RBUF), 2 * RBUF) != GOIPC_OK) {
		fprintf(stderr, "bench: decoder setup failed\n");
		exit(1);
	}
}

/* read_some reads once into the decoder; returns bytes or <= 0 at the end. */
static ssize_t read_some(int fd, goipc_decoder *d)
{
	size_t room;
	uint8_t *p = goipc_dec_space(d, &room);
	ssize_t k;
	do
		k = read(fd, p, room > RBUF ? RBUF : room);
	while (k < 0 && errno == EINTR);
	if (k > 0)
		goipc_dec_commit(d, (size_t)k);
	return k;
}

static void put_frame(uint8_t *dst, const uint8_t *payload, size_t n)
{
	dst[0] = (uint8_t)(n >> 24);
	dst[1] = (uint8_t)(n >> 16);
	dst[2] = (uint8_t)(n >> 8);
	dst[3] = (uint8_t)n;
	memcpy(dst + 4, payload, n);
}

static int stream_sink(const char *addr)
{
	int lfd = do_listen(addr), fd, rc = GOIPC_MORE;
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	unsigned long long frames = 0;
	double t0 = 0, t1 = 0;
	init_dec(&lf, &d);
	fd = goipc_accept(lfd);
	if (fd < 0)
		fail("accept");
	while (read_some(fd, &d) > 0) {
		if (t0 == 0)
			t0 = now();
		while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK)
			frames++;
		if (rc != GOIPC_MORE)
			break;
		t1 = now();
	}
	printf("frames %llu secs %.6f\n", frames, t1 - t0);
	return rc == GOIPC_MORE ? 0 : 1;
}

static int stream_send(const char *addr, size_t size, double secs)
{
	int fd = do_connect(addr);
	size_t fl = size + 4, per = (64u << 10) / fl, i;
	uint8_t *payload = xmalloc(size), *batch;
	double end;
	if (per == 0)
		per = 1;
	batch = xmalloc(per * fl);
	memset(payload, 'x', size);
	for (i = 0; i < per; i++)
		put_frame(batch + i * fl, payload, size);
	end = now() + secs;
	while (now() < end)
		for (i = 0; i < 16; i++)
			if (goipc_write_all(fd, batch, per * fl) != GOIPC_OK)
				fail("write");
	close(fd);
	return 0;
}

static void echo_conn(int fd)
{
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	uint8_t *out = xmalloc(2 * RBUF + 64);
	init_dec(&lf, &d);
	while (read_some(fd, &d) > 0) {
		size_t n = 0;
		int rc;
		while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) {
			if (n + f.len + 4 > 2 * RBUF) {
				if (goipc_write_all(fd, out, n) != GOIPC_OK)
					return;
				n = 0;
			}
			put_frame(out + n, f.payload, f.len);
			n += f.len + 4;
		}
		if (rc != GOIPC_MORE)
			break;
		if (n > 0 && goipc_write_all(fd, out, n) != GOIPC_OK)
			break;
	}
	close(fd);
}

static int echo_server(const char *addr)
{
	int lfd = do_listen(addr);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = goipc_accept(lfd);
		if (fd < 0)
			fail("accept");
		if (fork() == 0) {
			close(lfd);
			echo_conn(fd);
			_exit(0);
		}
		close(fd);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int rtt(const char *addr, size_t size, size_t window, double secs)
{
	int fd = do_connect(addr);
	goipc_lf lf;
	goipc_decoder d;
	goipc_frame f;
	size_t fl = size + 4, i, head = 0, tail = 0, cap = 1u << 23, ns = 0;
	uint8_t *frame = xmalloc(fl), *out = xmalloc(fl * window), *payload = xmalloc(size);
	double *sent = xmalloc(sizeof(double) * window), *lat = xmalloc(sizeof(double) * cap);
	double t0, end, t1, t;
	unsigned long long n = 0;
	int rc;
	memset(payload, 'x', size);
	put_frame(frame, payload, size);
	init_dec(&lf, &d);
	t0 = now();
	for (i = 0; i < window; i++) {
		memcpy(out + i * fl, frame, fl);
		sent[i] = t0;
	}
	if (goipc_write_all(fd, out, window * fl) != GOIPC_OK)
		fail("write");
	end = t0 + secs;
	for (;;) {
		size_t got = 0;
		if (read_some(fd, &d) <= 0)
			fail("read");
		t = now();
		while ((rc = goipc_dec_next(&d, &f)) == GOIPC_OK) {
			if (ns < cap)
				lat[ns++] = (t - sent[head]) * 1e6;
			head = (head + 1) % window;
			got++;
		}
		if (rc != GOIPC_MORE) {
			fprintf(stderr, "bench: rtt: %s\n", goipc_strerror(rc));
			return 1;
		}
		n += got;
		if (t >= end)
			break;
		for (i = 0; i < got; i++) {
			memcpy(out + i * fl, frame, fl);
			sent[tail] = t;
			tail = (tail + 1) % window;
		}
		if (got > 0 && goipc_write_all(fd, out, got * fl) != GOIPC_OK)
			fail("write");
	}
	t1 = now();
	qsort(lat, ns, sizeof(double), cmp_double);
	printf("n %llu secs %.6f p50 %.3f p99 %.3f p999 %.3f\n", n, t1 - t0, ns ? lat[(size_t)(0.5 * (ns - 1))] : 0,
	       ns ? lat[(size_t)(0.99 * (ns - 1))] : 0, ns ? lat[(size_t)(0.999 * (ns - 1))] : 0);
	close(fd);
	return 0;
}

/* parse_udp parses "udp://A.B.C.D:PORT". */
static void parse_udp(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *p = strncmp(addr, "udp://", 6) == 0 ? addr + 6 : addr, *c = strrchr(p, ':');
	if (c == NULL || (size_t)(c - p) >= sizeof host) {
		fprintf(stderr, "bench: bad udp address %s\n", addr);
		exit(2);
	}
	memcpy(host, p, (size_t)(c - p));
	host[c - p] = '\0';
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "bench: bad udp host %s\n", host);
		exit(2);
	}
}

enum { UBATCH = 64, UMAX = 2048 };

static int udp_sink(const char *addr, double secs)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	struct mmsghdr m[UBATCH];
	struct iovec iov[UBATCH];
	static uint8_t bufs[UBATCH][UMAX];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, rcv = 4 << 20;
	unsigned long long frames = 0;
	double t0 = 0, t1 = 0;
	struct timeval tv = {0, 200000};
	parse_udp(addr, &sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		fail("udp bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	printf("listening udp://127.0.0.1:%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	memset(m, 0, sizeof m);
	for (i = 0; i < UBATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = UMAX;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int k = recvmmsg(fd, m, UBATCH, MSG_WAITFORONE, NULL);
		double t = now();
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && t0 == 0)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && t - t1 > 1.0)
				break; /* the sender stopped */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			fail("recvmmsg");
		}
		if (t0 == 0)
			t0 = t;
		else if (t - t0 >= secs)
			break;
		frames += (unsigned long long)k;
		t1 = t;
	}
	printf("frames %llu secs %.6f\n", frames, t1 - t0);
	return 0;
}

static int udp_send(const char *addr, size_t size, double secs)
{
	struct sockaddr_in sa;
	struct mmsghdr m[UBATCH];
	struct iovec iov;
	uint8_t *payload = xmalloc(size);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i;
	double end;
	parse_udp(addr, &sa);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		fail("udp connect");
	memset(payload, 'x', size);
	iov.iov_base = payload;
	iov.iov_len = size;
	memset(m, 0, sizeof m);
	for (i = 0; i < UBATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + secs;
	while (now() < end)
		if (sendmmsg(fd, m, UBATCH, 0) < 0 && errno != ECONNREFUSED && errno != EINTR && errno != ENOBUFS)
			fail("sendmmsg");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "stream-sink") == 0)
		return stream_sink(argv[2]);
	if (argc >= 5 && strcmp(argv[1], "stream-send") == 0)
		return stream_send(argv[2], strtoul(argv[3], NULL, 10), atof(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "echo") == 0)
		return echo_server(argv[2]);
	if (argc >= 6 && strcmp(argv[1], "rtt") == 0)
		return rtt(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10), atof(argv[5]));
	if (argc >= 4 && strcmp(argv[1], "udp-sink") == 0)
		return udp_sink(argv[2], atof(argv[3]));
	if (argc >= 5 && strcmp(argv[1], "udp-send") == 0)
		return udp_send(argv[2], strtoul(argv[3], NULL, 10), atof(argv[4]));
	fprintf(stderr, "usage: bench stream-sink ADDR | stream-send ADDR SIZE SECS | echo ADDR |\n"
	                "       rtt ADDR SIZE WINDOW SECS | udp-sink ADDR SECS | udp-send ADDR SIZE SECS\n");
	return 2;
}
