// Package udp is goipc's datagram transport: udp4 and udp6 with node-ipc
// semantics, batching, and no silent loss.
//
// One goipc message is exactly one datagram (the frame codec's bytes for one
// message). As in node-ipc, every UDP endpoint is a server bound to its own
// port: a Conn learns its peers from the datagrams it receives (record them
// in a Peers table with Seen) and Broadcast sends one datagram to every peer
// it has heard from.
//
// Nothing is lost silently:
//   - a payload larger than one datagram for its destination (MaxDatagram4,
//     MaxDatagram6) is refused with an error wrapping ErrTooLarge before
//     anything is sent;
//   - a received datagram larger than the caller's buffer is reported with
//     an error wrapping ErrTruncated (and, in a batch, Message.Truncated),
//     and counted by Conn.Truncated;
//   - a peer pushed out of a full Peers table is counted by Peers.Evictions.
//
// UDP itself may still drop datagrams (a full socket receive buffer, a lossy
// network); size the receive buffer with SetReadBuffer.
//
// On Linux, WriteBatch, ReadBatch and Broadcast use sendmmsg(2) and
// recvmmsg(2): one system call per batch. Elsewhere they fall back to one
// call per datagram with the same semantics. The hot paths (WriteTo,
// ReadFrom, WriteBatch, ReadBatch, Broadcast, Peers.Seen of a known peer)
// do not allocate in steady state.
package udp
