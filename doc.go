// Package goipc is fast inter-process communication for Go: one API over
// Unix sockets (named pipes on Windows), TCP, TLS and UDP, with
// event-loop servers and no allocation per message.
//
// # Addresses
//
//	unix:///run/app/world.sock   a Unix socket file (created 0600)
//	unix://@world                a Linux abstract socket
//	ipc://world                  node-ipc's rule: socket root + appspace + id
//	tcp://127.0.0.1:8000         TCP, IPv4 or IPv6 ([::1]:8000); port 0 picks one
//	tls://127.0.0.1:8443         TLS over TCP (WithTLS; mutual TLS with a client CA)
//	udp://127.0.0.1:8000         UDP, one message per datagram
//	pipe://world                 a Windows named pipe (\\.\pipe\world)
//
// # Wire modes
//
// EventCodec (the default) carries named events in goipc's binary
// envelope, with request/reply and optional compression. JSONCodec speaks
// node-ipc's {"type":T,"data":D} + "\f", so a Go process can join a
// Node.js system. LengthCodec frames bytes with a length field configured
// to match an existing C header; RawCodec passes bytes through. The bytes
// are specified in docs/PROTOCOL.md.
//
// # Servers and clients
//
//	srv, _ := goipc.Listen("ipc://world")
//	srv.Handle("message", func(c *goipc.Conn, m goipc.Message) {
//		c.Emit("message", m.Data) // reply to the sender
//	})
//	go srv.Serve(ctx)
//
//	cl, _ := goipc.Dial(ctx, "ipc://world", goipc.WithRetry(500*time.Millisecond, goipc.Forever))
//	cl.Handle("message", func(m goipc.Message) { fmt.Printf("%s\n", m.Data) })
//	cl.Emit("message", []byte(`"hello"`))
//
// # Memory and goroutines
//
// Handlers run on the event loop (servers) or the connection's reader
// goroutine (clients): keep them short. What is sent to a connection while
// its handlers run may wait until they have handled what one read
// brought, to go out in one batch, so a handler that blocks can delay its
// connection's sends too; do long work on another goroutine. Message.Data aliases the receive
// buffer and is valid only during the handler; Clone keeps it. Emit,
// Send, Broadcast and Request are safe from any goroutine and copy their
// data before returning; messages from one goroutine keep their order.
// Each connection queues at most a bounded number of bytes (WithMaxPending);
// beyond it the policy applies: Refuse (ErrBackpressure), Block or
// Disconnect.
//
// # Errors
//
// Errors wrap the sentinels of this package and of the layers below
// (frame.ErrFrameTooLarge, unix.ErrAddrInUse, udp.ErrTooLarge, …), and
// closed things return errors matching net.ErrClosed.
package goipc
