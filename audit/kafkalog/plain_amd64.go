//go:build !purego

package kafkalog

// plainPrefix16 returns the index of the first special byte of data (see
// plainPrefix) when one lies in its first len(data)&^15 bytes, else
// len(data)&^15. It is written in assembly (plain_amd64.s).
//
//go:noescape
func plainPrefix16(data []byte) int

// plainPrefix returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e) and newlines.
func plainPrefix(data []byte) int {
	i := plainPrefix16(data)
	if i < len(data)&^15 {
		return i
	}
	return i + plainPrefixWords(data[i:]) // the last 15 bytes at most
}
