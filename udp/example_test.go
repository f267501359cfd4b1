package udp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seed-fc4a2f4b/goipc/udp"
)

// A node-ipc style UDP exchange on loopback: the server learns a client
// from its first datagram, then broadcasts to every peer it has heard from.
// Every endpoint, the client too, is bound to its own port.
func Example() {
	ctx := context.Background()
	srv, err := udp.Listen(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	cl, err := udp.ListenFor(ctx, srv.LocalAddr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()

	// Client → server: one message, one datagram.
	if err := cl.WriteTo([]byte("hello"), srv.LocalAddr()); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, udp.MaxDatagram4)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := srv.ReadFrom(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	peers := udp.NewPeers(64)
	fmt.Printf("server got %q; new peer: %v\n", buf[:n], peers.Seen(from))

	// Server → every known peer, in one sendmmsg on Linux.
	sent, err := srv.Broadcast([]byte("welcome"), peers)
	fmt.Println("broadcast to", sent, "peer(s), err:", err)

	// Messages are batched in ReadBatch; each Buf is the caller's.
	msgs := []udp.Message{{Buf: make([]byte, 1500)}, {Buf: make([]byte, 1500)}}
	cl.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, err := cl.ReadBatch(msgs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("client got %d message: %q from the server: %v\n", k, msgs[0].Buf[:msgs[0].N], msgs[0].Addr == srv.LocalAddr())

	// Too large for one datagram: an error, never a silent truncation.
	err = cl.WriteTo(make([]byte, udp.MaxDatagram4+1), srv.LocalAddr())
	fmt.Println(errors.Is(err, udp.ErrTooLarge))

	// Output:
	// server got "hello"; new peer: true
	// broadcast to 1 peer(s), err: <nil>
	// client got 1 message: "welcome" from the server: true
	// true
}
