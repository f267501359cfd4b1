//go:build unix

package udp

import "syscall"

// msgTrunc is the recvmsg flag the OS sets on a datagram that did not fit.
const msgTrunc = syscall.MSG_TRUNC

// isTruncErr reports whether a read error means "datagram truncated". On
// Unix truncation is a flag, not an error.
func isTruncErr(error) bool { return false }
