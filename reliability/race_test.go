//go:build linux && race

package reliability

// raceEnabled reduces the heaviest counts under the race detector (its
// goroutines are ~10× slower and it caps live goroutines at 8128); every
// reduction is logged by the test that makes it.
const raceEnabled = true
