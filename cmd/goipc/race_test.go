//go:build race

package main

// raceEnabled builds the tested binary with -race too.
const raceEnabled = true
