//go:build !amd64 || purego

package kafkalog

// printable returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e).
func printable(data []byte) int { return printableWords(data) }
