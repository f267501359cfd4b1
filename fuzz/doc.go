// Package fuzz holds goipc's cross-package fuzz targets and their seed
// corpora (testdata/fuzz/<FuzzName>/). It has no API: everything is in the
// _test.go files.
//
//   - FuzzLiveServerEvent, FuzzLiveServerLength, FuzzLiveServerJSON and
//     FuzzLiveServerRaw feed random byte streams, split at fuzz-chosen
//     points, into a live server of each codec on a Unix socket, and check
//     that it neither panics nor leaks (goroutines, file descriptors,
//     connections), keeps serving a long-lived canary client, enforces the
//     partial-frame timeout, and echoes exactly what the frame package's
//     decoders (frame.Decoder semantics, ParseEvent, JSONParser,
//     Decompressor) say the valid prefix of the stream holds.
//   - FuzzEnvelopeStream encodes random sequences of valid and invalid
//     messages through the root package's exported API (Client.Emit, Send,
//     Request on every codec, with and without compression) and decodes the
//     wire bytes with the frame package: every message the encoder accepts
//     decodes back to itself, every one it refuses leaves no bytes behind.
//
// Run one with
//
//	go test -run '^$' -fuzz '^FuzzLiveServerEvent$' -fuzztime 10s ./fuzz/
//
// Regenerate the stored seed files with
//
//	go test ./fuzz/ -run '^TestFuzzWriteCorpus$' -args -fz.writecorpus
package fuzz
