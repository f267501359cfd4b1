package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

const sendExamples = `  goipc send unix:///tmp/demo.sock --data hello
  goipc send tcp://127.0.0.1:8000 --type sum --data '[1,2]' --expect-reply --timeout 2s
  goipc send ipc://world --codec json --type message --data '{"text":"hi"}'
  goipc send tcp://10.0.0.7:9000 --codec length --len-bytes 2 --hex '01 00 2a' --expect-reply
  goipc send udp://127.0.0.1:8000 --file frame.bin
`

// runSend is `goipc send ADDR`: it sends one message and, with
// --expect-reply, waits for one reply and prints it (a JSON line
// {"type":T,"data":D} in event and json modes; text or a hexdump in raw
// and length modes).
func runSend(ctx context.Context, e *env, args []string) error {
	f := newFlags("send", "goipc send ADDR (--data STR | --hex HEX | --file F) [--type T] [--expect-reply] [--timeout DUR] [codec flags]", sendExamples)
	data := f.fs.String("data", "", "the payload as text (in json mode: a JSON value)")
	hexData := f.fs.String("hex", "", "the payload in hex (\"de ad be ef\", \"0xdead\", \"de:ad\")")
	file := f.fs.String("file", "", "read the payload from `F` (- for stdin)")
	typ := f.fs.String("type", "message", "event name (event and json modes)")
	expect := f.fs.Bool("expect-reply", false, "wait for one reply and print it: a reply to the request, or the first message that arrives")
	timeout := f.fs.Duration("timeout", 5*time.Second, "give up connecting or waiting for the reply after DUR")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	addr, err := f.oneAddr(pos)
	if err != nil {
		return err
	}
	given := 0
	for _, name := range []string{"data", "hex", "file"} {
		if f.isSet(name) {
			given++
		}
	}
	if given != 1 {
		if given == 0 {
			return usagef("send: give one of --data, --hex or --file")
		}
		return usagef("send: --data, --hex and --file cannot be combined: give one")
	}
	if *timeout <= 0 {
		return usagef("send: --timeout must be positive")
	}
	opts, err := f.options(addr)
	if err != nil {
		return err
	}
	codec, _ := f.buildCodec()
	events := isEvents(codec.Mode())
	if f.isSet("type") && !events {
		return usagef("send: --type applies to --codec event or json only")
	}
	var payload []byte
	switch {
	case f.isSet("hex"):
		if payload, err = rawbuf.ParseHex(nil, *hexData); err != nil {
			return usagef("send: --hex: %v", err)
		}
	case f.isSet("file"):
		if *file == "-" {
			payload, err = readAll(e)
		} else {
			payload, err = os.ReadFile(*file)
		}
		if err != nil {
			return err
		}
	default:
		payload = []byte(*data)
	}
	if codec.Mode() == goipc.ModeJSON && len(payload) > 0 && !frame.ValidJSON(payload) {
		return usagef("send: in json mode the data must be one JSON value (e.g. --data '\"hello\"' or --data '{\"a\":1}')")
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	opts = append(opts, goipc.WithDialTimeout(*timeout))
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	replies := make(chan received, 1)
	offer := func(m received) {
		select {
		case replies <- m:
		default:
		}
	}
	if *expect {
		if events {
			cl.HandleAny(func(m goipc.Message) {
				m = m.Clone()
				offer(received{event: m.Event, data: m.Data})
			})
		} else {
			cl.OnData(func(b []byte) { offer(received{data: append([]byte(nil), b...)}) })
		}
	}
	if err := cl.Connect(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	errc := make(chan error, 1)
	switch {
	case events && *expect:
		go func() {
			r, err := cl.Request(ctx, *typ, payload)
			if err == nil {
				offer(received{event: *typ, data: r})
			} else if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				errc <- err
			}
		}()
	case events:
		err = cl.Emit(*typ, payload)
	default:
		err = cl.Send(payload)
	}
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if !*expect {
		return cl.Close() // flushes the message
	}
	select {
	case m := <-replies:
		p := &printer{w: e.stdout, events: events}
		return p.print(m)
	case err := <-errc:
		return fmt.Errorf("request %q: %w", *typ, err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no reply from %s within %v", addr, *timeout)
		}
		return ctx.Err()
	}
}

// readAll reads stdin to the end.
func readAll(e *env) ([]byte, error) {
	var b []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := e.stdin.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, nil
			}
			return b, err
		}
	}
}
