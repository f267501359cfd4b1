package udp

// The one-datagram-per-call batch implementation: used by batch_other.go
// where the OS has no sendmmsg/recvmmsg, and compiled everywhere so the
// Linux tests exercise it too.

// writeBatchLoop sends already-checked messages with one
// WriteToUDPAddrPort each. It returns the number sent; on error msgs[sent]
// is the one that failed.
func (c *Conn) writeBatchLoop(msgs []Message) (int, error) {
	for i := range msgs {
		m := &msgs[i]
		if _, err := c.uc.WriteToUDPAddrPort(m.Buf, m.Addr); err != nil {
			return i, err
		}
		m.N = len(m.Buf)
	}
	return len(msgs), nil
}

// readBatchOne reads one datagram into msgs[0] (len(msgs) >= 1).
func (c *Conn) readBatchOne(msgs []Message) (int, error) {
	m := &msgs[0]
	n, _, flags, from, err := c.uc.ReadMsgUDPAddrPort(m.Buf, nil)
	m.Truncated = false
	if err != nil {
		if !isTruncErr(err) {
			return 0, err
		}
		m.Truncated = true
	}
	m.N, m.Addr = n, unmap(from)
	if flags&msgTrunc != 0 {
		m.Truncated = true
	}
	return 1, nil
}
