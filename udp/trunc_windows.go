//go:build windows

package udp

import (
	"errors"
	"syscall"
)

// msgTrunc is Windows' MSG_TRUNC.
const msgTrunc = 0x0100

// wsaEMsgSize is WSAEMSGSIZE: Windows reports a datagram larger than the
// buffer as this error (with the buffer filled) rather than as a flag.
const wsaEMsgSize = syscall.Errno(10040)

func isTruncErr(err error) bool { return errors.Is(err, wsaEMsgSize) }
