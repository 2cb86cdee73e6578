//go:build !amd64 || purego

package kafkalog

// plainPrefix returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e) and newlines.
func plainPrefix(data []byte) int { return plainPrefixWords(data) }
