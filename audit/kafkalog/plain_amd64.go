//go:build !purego

package kafkalog

// The functions below are written in assembly (plain_amd64.s).

// printable returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e).
//
//go:noescape
func printable(data []byte) int

// idEnd returns the index of the first byte of d from i on that cannot be
// in a movie id (see validID) or is not printable ASCII, or -1 when there
// is none.
//
//go:noescape
func idEnd(d []byte, i int) int
