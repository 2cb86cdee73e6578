//go:build race

package avro

// raceEnabled: the race detector makes sync.Pool drop a quarter of what
// is put back, so allocation bounds that rely on the pool do not hold.
const raceEnabled = true
