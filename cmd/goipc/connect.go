package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

const connectExamples = `  echo '{"type":"message","data":{"a":1}}' | goipc connect unix:///tmp/demo.sock --count 1
  goipc connect ipc://world --codec json                 # type JSON lines, see replies as JSON lines
  goipc connect tcp://10.0.0.7:9000 --codec length --len-bytes 2 --little-endian --hex
  goipc connect tcp://127.0.0.1:8000 --retry 500ms --max-retries 20 --linger 2s < cmds.jsonl

In event mode the "data" value's raw bytes are the payload ({"data":{"a":1}}
sends the 7 bytes {"a":1}; {"data":"hi"} sends "hi" with its quotes);
received payloads print as JSON when they are valid JSON, else as a JSON
string. In length mode each stdin line is one frame (without the newline);
in raw mode the line's bytes are sent newline included; --hex reads and
prints hex instead.
`

// runConnect is `goipc connect ADDR`: a client that sends stdin lines and
// prints what it receives, for people and for pipes.
func runConnect(ctx context.Context, e *env, args []string) error {
	f := newFlags("connect", "goipc connect ADDR [--count N] [--linger DUR] [--retry DUR --max-retries N] [--hex] [codec flags]", connectExamples)
	count := f.fs.Int("count", 0, "exit after receiving N messages (0: no limit)")
	linger := f.fs.Duration("linger", 0, "after stdin ends, wait this long for messages (with --count: at most this long; 0 then means until the count)")
	retry := f.fs.Duration("retry", 0, "retry connecting (and reconnect after a drop) every DUR (0: fail at once)")
	maxRetries := f.fs.Int("max-retries", -1, "with --retry, give up after N failed attempts in a row (-1: never)")
	hexIO := f.fs.Bool("hex", false, "raw/length: stdin lines are hex (\"de ad be ef\") and received bytes print as a hexdump")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	addr, err := f.oneAddr(pos)
	if err != nil {
		return err
	}
	if *count < 0 {
		return usagef("connect: --count %d: want 0 or more", *count)
	}
	if *maxRetries < -1 {
		return usagef("connect: --max-retries %d: want -1 or more", *maxRetries)
	}
	if f.isSet("max-retries") && *retry <= 0 {
		return usagef("connect: --max-retries needs --retry")
	}
	opts, err := f.options(addr)
	if err != nil {
		return err
	}
	codec, _ := f.buildCodec()
	events := isEvents(codec.Mode())
	if *hexIO && events {
		return usagef("connect: --hex applies to --codec raw or length only")
	}
	if *retry > 0 {
		opts = append(opts, goipc.WithRetry(*retry, *maxRetries))
	}
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	p := &printer{w: e.stdout, events: events, hex: *hexIO}
	var got atomic.Int64
	counted := make(chan struct{})
	onMsg := func(m received) {
		_ = p.print(m)
		if n := got.Add(1); *count > 0 && n == int64(*count) {
			close(counted)
		}
	}
	if events {
		cl.HandleAny(func(m goipc.Message) { onMsg(received{event: m.Event, data: m.Data}) })
	} else {
		cl.OnData(func(b []byte) { onMsg(received{data: b}) })
	}
	var dropErr atomic.Value // error: why the connection dropped
	cl.OnDisconnect(func(err error) {
		if err != nil {
			dropErr.Store(err)
		}
	})
	lost := make(chan error, 1)
	cl.OnDestroy(func(err error) {
		select {
		case lost <- err:
		default:
		}
	})
	if err := cl.Connect(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}

	stdinDone := make(chan struct{})
	go func() {
		defer close(stdinDone)
		sc := newLineScanner(e.stdin)
		for n := 1; sc.Scan(); n++ {
			if err := sendLine(cl, codec.Mode(), *hexIO, sc.Bytes()); err != nil {
				fmt.Fprintln(e.stderr, errText(fmt.Errorf("stdin line %d: %w", n, err)))
			}
		}
	}()

	var lingerC <-chan time.Time
	stdin := (<-chan struct{})(stdinDone)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-counted:
			return nil
		case err := <-lost:
			if *retry <= 0 {
				// Without --retry the client stops when the connection
				// drops: a clean close by the server is a normal end.
				if derr, _ := dropErr.Load().(error); derr != nil {
					return fmt.Errorf("connection to %s lost: %w", addr, derr)
				}
				fmt.Fprintln(e.stderr, "connection closed by the server")
				return nil
			}
			return fmt.Errorf("connection to %s lost: %w", addr, err)
		case <-stdin:
			stdin = nil
			if *count > 0 && *linger == 0 {
				continue // wait for the count
			}
			lingerC = time.After(*linger)
		case <-lingerC:
			return nil
		}
	}
}

// sendLine sends one stdin line: a {"type":T,"data":D} event in event and
// json modes, a frame in length mode, the line and its newline in raw mode;
// with hex, the bytes the hex line denotes.
func sendLine(cl *goipc.Client, mode goipc.Mode, hex bool, line []byte) error {
	if isEvents(mode) {
		typ, data, err := parseEventLine(line)
		if err != nil {
			return err
		}
		return cl.Emit(typ, data)
	}
	var b []byte
	switch {
	case hex:
		var err error
		if b, err = rawbuf.ParseHex(nil, string(line)); err != nil {
			return err
		}
	case mode == goipc.ModeRaw:
		b = append(append(b, line...), '\n')
	default:
		b = line
	}
	return cl.Send(b)
}
