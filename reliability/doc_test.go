// Package reliability holds goipc's fault-injection, slow-consumer,
// crash-restart, leak, scale and soak tests (issue 9). It has only tests;
// the helper process it drives is built from testdata/peer by TestMain.
//
// The tests are Linux-only (they raise RLIMIT_NOFILE, SIGKILL a child
// process and read /proc/self/statm); this file keeps the package
// buildable elsewhere. Under -race the heaviest counts are reduced (see
// raceEnabled) and each test logs what it reduced. The soak test runs only
// with -soak=DURATION or GOIPC_SOAK=DURATION.
package reliability
