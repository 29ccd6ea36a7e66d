//go:build race

package dataverse_test

// raceEnabled reports whether the race detector is on. Under it the emulator's SQLite store is
// about ten times slower and the heap is not what an ordinary build allocates, so the tests that
// create thousands of rows or measure memory scale down (see each test).
const raceEnabled = true
