package audit

// RaceEnabled tells the external tests whether the race detector is on:
// it makes sync.Pool drop a quarter of what is put back.
const RaceEnabled = raceEnabled

// Allocated returns the bytes fn allocates, for the external tests.
var Allocated = allocated
