//go:build !purego

package kafkalog

// printable16 returns the index of the first byte of data that is not
// printable ASCII when one lies in its first len(data)&^15 bytes, else
// len(data)&^15. It is written in assembly (plain_amd64.s).
//
//go:noescape
func printable16(data []byte) int

// printable returns the length of the longest prefix of data that holds
// only printable ASCII (0x20-0x7e).
func printable(data []byte) int {
	i := printable16(data)
	if i < len(data)&^15 {
		return i
	}
	return i + printableWords(data[i:]) // the last 15 bytes at most
}
