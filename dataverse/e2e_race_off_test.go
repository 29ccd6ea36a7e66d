//go:build !race

package dataverse_test

// raceEnabled reports whether the race detector is on (see e2e_race_on_test.go).
const raceEnabled = false
