//go:build race

package cli

// raceEnabled reports whether the race detector is on: the end-to-end import tests then run at a
// smaller size, since -race makes every row several times dearer.
const raceEnabled = true
