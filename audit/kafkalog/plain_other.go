//go:build !amd64 || purego

package kafkalog

// printable returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e).
func printable(data []byte) int { return printableWords(data) }

// idEnd returns the index of the first byte of d from i on that cannot be
// in a movie id (see validID) or is not printable ASCII, or -1 when there
// is none or it is in the last (len(d)-i)&7 bytes, which idEndWords does not
// read.
func idEnd(d []byte, i int) int { return idEndWords(d, i) }

// commaEnd returns the index of the first byte of d from i on that is ','
// or not printable ASCII, or -1 when there is none or it is in the last
// (len(d)-i)&7 bytes, which commaEndWords does not read.
func commaEnd(d []byte, i int) int { return commaEndWords(d, i) }
