/*
 * embedded.c - the core of goipc.h as a microcontroller build uses it: no
 * GOIPC_POSIX, no libc, static buffers. ctest compiles it with
 * -ffreestanding and checks that the object calls nothing in libc.
 */
#define GOIPC_IMPLEMENTATION
#include "goipc.h"

static uint8_t rx[256];
static goipc_decoder dec;
static goipc_lf lf;
static unsigned frames;

static int on_frame(void *ctx, const uint8_t *p, size_t n)
{
	goipc_event ev;
	(void)ctx;
	if (goipc_event_parse(p, n, &ev) == GOIPC_OK)
		frames++;
	return 0;
}

/* uart_init: 2-byte little-endian length, frames up to 256 bytes. */
int uart_init(void)
{
	goipc_lf_config cfg = {0, 2, 1, 0, 0, 0, 0, sizeof rx};
	int rc = goipc_lf_init(&lf, &cfg);
	if (rc != GOIPC_OK)
		return rc;
	return goipc_dec_init(&dec, &lf, rx, sizeof rx);
}

/* uart_rx_byte would be called from the receive interrupt. */
int uart_rx_byte(uint8_t b) { return goipc_dec_push(&dec, &b, 1, on_frame, 0); }

/* uart_frame_event encodes an event frame into out. */
int uart_frame_event(uint8_t *out, size_t cap, size_t *n)
{
	static const uint8_t data[3] = {1, 2, 3};
	return goipc_event_frame(&lf, out, cap, "tick", 4, 0, 0, data, sizeof data, n);
}

unsigned uart_frames(void) { return frames; }
