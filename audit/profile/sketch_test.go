package profile

import (
	"encoding/base64"
	"strings"
	"testing"
)

// crashingSketch is a damaged sketch from a partial that FuzzDecodePart
// made: sketches-go's decoder indexes out of range on it.
const crashingSketch = "DxPs5+ntUfA/AAAAAAAAAAAFE9oCAgICBAIEAgICTAICAwKEQAIDAoRAAgMOAwwDAgMCAwIDAgMCAgID"

// TestDamagedSketchesAreRefused: a sketch whose bytes were damaged (each
// byte in turn set to a few values, and one the fuzzer found) decodes or
// gives an error; it never panics. sketches-go indexes out of range on
// some, which a history entry or partial on a bad disk would otherwise
// turn into a crash of the whole run.
func TestDamagedSketchesAreRefused(t *testing.T) {
	s := newSketch()
	for i := range 2000 {
		if err := s.Add(float64(i%97) * 1.5); err != nil {
			t.Fatal(err)
		}
	}
	var good []byte
	s.Encode(&good, false)
	if _, err := decodeSketch(good); err != nil {
		t.Fatalf("the undamaged sketch: %v", err)
	}
	refused := 0
	for i := range good {
		for _, v := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
			b := append([]byte(nil), good...)
			b[i] = v
			if _, err := decodeSketch(b); err != nil {
				refused++
			}
		}
	}
	if refused == 0 {
		t.Error("no damaged sketch was refused")
	}
	b, err := base64.StdEncoding.DecodeString(crashingSketch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeSketch(b); err == nil || !strings.Contains(err.Error(), "corrupt sketch") {
		t.Errorf("decodeSketch of the sketch that crashed the decoder: %v; want a corrupt sketch error", err)
	}
}
