//go:build !amd64 || purego

package kafkalog

// asmStops says that idEnd and commaEnd are the assembly's, which scan to
// the end of their input (see TestStops): here they are the Words versions.
const asmStops = false
