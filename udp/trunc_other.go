//go:build !unix && !windows

package udp

// msgTrunc is 0 where the platform reports no truncation flag (js, wasip1,
// plan9): truncation cannot be detected there.
const msgTrunc = 0

func isTruncErr(error) bool { return false }
