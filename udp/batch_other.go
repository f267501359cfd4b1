//go:build !linux

package udp

// batchState is empty where the OS has no sendmmsg/recvmmsg: batches are
// sent and received one datagram per system call (batch_generic.go).
type batchState struct{}

func (b *batchState) init(c *Conn, n int) error { return nil }

func (c *Conn) writeBatch(msgs []Message) (int, error) { return c.writeBatchLoop(msgs) }

func (c *Conn) readBatch(msgs []Message) (int, error) { return c.readBatchOne(msgs) }
