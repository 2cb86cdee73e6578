//go:build !purego

package kafkalog

import "testing"

// asmStops says that idEnd and commaEnd are the assembly's, which scan to
// the end of their input (see TestStops).
const asmStops = true

// TestPrintableAssembly holds both assembly versions of printable to the
// byte-by-byte answer, whichever of them printable picks on this CPU.
func TestPrintableAssembly(t *testing.T) {
	checkPrintable(t, "printableSSE2", printableSSE2)
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	checkPrintable(t, "printableAVX2", printableAVX2)
}
