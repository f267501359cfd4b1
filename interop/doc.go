// Package interop proves goipc's node-ipc compatibility against real
// node-ipc peers: node-ipc 14.0.0 on Node 22 and node-ipc 9.2.1 on Node 20,
// driven as subprocesses (interop/node/peer.mjs) by the tests in this
// package. interop/setup.sh installs them into .cache/interop/; the tests
// run it themselves when the cache is missing. In CI (CI=true) a missing
// Node fails the tests instead of skipping them. See docs/NODE-IPC.md.
package interop
