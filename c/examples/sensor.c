/*
 * sensor.c - a C sensor that streams fixed-layout records to a goipc server
 * and obeys commands sent back on the same connection. The Go side is
 * examples/c-sensor (go run ./examples/c-sensor); docs/C-PEERS.md walks
 * through both.
 *
 * Wire: every frame has a 2-byte little-endian length of its payload
 * (goipc.LengthCodec(frame.LengthFieldConfig{Size: 2, LittleEndian: true})).
 *
 *   C -> Go, one record per frame, 24 bytes, little-endian, packed:
 *       u32 seq       1, 2, 3, ...
 *       u64 ts_ns     CLOCK_REALTIME when the record was taken
 *       f32 x, y, z   readings; this demo sends x = seq/2, y = -seq, z = 1/seq
 *   Go -> C, one command per frame, 8 bytes, little-endian:
 *       u8  op        1 = set period (arg: microseconds between records)
 *                     2 = stop (send no more records, close, exit 0)
 *       u8  pad[3]
 *       u32 arg
 *
 * Build and run (the Go server first):
 *   go run ./examples/c-sensor -addr unix:///tmp/sensor.sock
 *   cc -std=c99 -O2 -I c -o sensor c/examples/sensor.c
 *   ./sensor unix:///tmp/sensor.sock 1000
 */
#define GOIPC_IMPLEMENTATION
#define GOIPC_POSIX
#include "goipc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORD_SIZE 24
#define COMMAND_SIZE 8
#define OP_SET_PERIOD 1
#define OP_STOP 2

/* The record as C code would hold it; serialised field by field below so
 * the wire layout doesn't depend on the compiler's padding or byte order. */
struct sensor {
	uint32_t seq;
	uint64_t ts_ns;
	float x, y, z;
};

static void put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_u64le(uint8_t *p, uint64_t v)
{
	put_u32le(p, (uint32_t)v);
	put_u32le(p + 4, (uint32_t)(v >> 32));
}

static void put_f32le(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u); /* IEEE 754 binary32 */
	put_u32le(p, u);
}

static uint32_t get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void encode(uint8_t out[RECORD_SIZE], const struct sensor *s)
{
	put_u32le(out, s->seq);
	put_u64le(out + 4, s->ts_ns);
	put_f32le(out + 12, s->x);
	put_f32le(out + 16, s->y);
	put_f32le(out + 20, s->z);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* poll_commands handles the commands that have arrived, without blocking.
 * Returns 1 to go on, 0 after a stop, -1 on error. */
static int poll_commands(int fd, goipc_decoder *d, uint32_t *period_us)
{
	struct pollfd pfd;
	goipc_frame f;
	int rc;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 0) > 0) {
		size_t room;
		uint8_t *p = goipc_dec_space(d, &room);
		ssize_t k = read(fd, p, room);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "sensor: server closed the connection\n");
			return -1;
		}
		goipc_dec_commit(d, (size_t)k);
		while ((rc = goipc_dec_next(d, &f)) == GOIPC_OK) {
			uint32_t arg;
			if (f.len != COMMAND_SIZE) {
				fprintf(stderr, "sensor: ignoring a %zu-byte command\n", f.len);
				continue;
			}
			arg = get_u32le(f.payload + 4);
			switch (f.payload[0]) {
			case OP_SET_PERIOD:
				*period_us = arg;
				printf("command: period %u us\n", (unsigned)arg);
				break;
			case OP_STOP:
				printf("command: stop\n");
				return 0;
			default:
				fprintf(stderr, "sensor: unknown command %u\n", (unsigned)f.payload[0]);
			}
		}
		if (rc != GOIPC_MORE) {
			fprintf(stderr, "sensor: bad command stream: %s\n", goipc_strerror(rc));
			return -1;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	goipc_lf_config cfg;
	goipc_lf lf;
	goipc_decoder d;
	static uint8_t rx[64]; /* commands are 8 bytes; 64 is plenty */
	uint8_t rec[RECORD_SIZE];
	uint32_t period_us = 0, n, i;
	struct sensor s;
	int fd, rc, go = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: sensor ADDR N   (ADDR: unix:///path or tcp://host:port)\n");
		return 2;
	}
	n = (uint32_t)strtoul(argv[2], NULL, 10);

	memset(&cfg, 0, sizeof cfg);
	cfg.size = 2;
	cfg.little_endian = 1;
	cfg.max_frame = sizeof rx;
	if ((rc = goipc_lf_init(&lf, &cfg)) != GOIPC_OK || (rc = goipc_dec_init(&d, &lf, rx, sizeof rx)) != GOIPC_OK) {
		fprintf(stderr, "sensor: %s\n", goipc_strerror(rc));
		return 1;
	}
	fd = goipc_connect(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "sensor: connect %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("connected to %s\n", argv[1]);

	for (i = 1; i <= n && go; i++) {
		s.seq = i;
		s.ts_ns = realtime_ns();
		s.x = (float)i * 0.5f;
		s.y = -(float)i;
		s.z = 1.0f / (float)i;
		encode(rec, &s);
		rc = goipc_send_frame(fd, &lf, rec, sizeof rec);
		if (rc != GOIPC_OK) {
			fprintf(stderr, "sensor: send record %u: %s: %s\n", (unsigned)i, goipc_strerror(rc), strerror(errno));
			return 1;
		}
		go = poll_commands(fd, &d, &period_us);
		if (go < 0)
			return 1;
		if (go && period_us > 0) {
			struct timespec ts;
			ts.tv_sec = (time_t)(period_us / 1000000u);
			ts.tv_nsec = (long)(period_us % 1000000u) * 1000L;
			nanosleep(&ts, NULL);
		}
	}
	i--;
	if (!go)
		printf("stopped by the server after %u records\n", (unsigned)i);
	else
		printf("sent %u records\n", (unsigned)i);
	close(fd);
	return 0;
}
