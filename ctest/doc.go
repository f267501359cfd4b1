// Package ctest builds the C implementation in ../c (goipc.h and its test
// programs) with gcc, and with clang when it is installed, and runs it: the
// shared hex test vectors, the C peer against goipc over Unix sockets and
// TCP in both directions, and the C-peer benchmarks. It holds only tests;
// `go test ./ctest/` is all it takes.
//
// When gcc is missing the tests skip, except with CI=true, where they fail.
// Set GOIPC_C_CLIENT_CPU / GOIPC_C_SERVER_CPU to a CPU list to run the C
// client or server processes under taskset (see docs/BENCHMARKS.md).
package ctest
