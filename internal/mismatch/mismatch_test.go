package mismatch

import "testing"

func TestFormat(t *testing.T) {
	got := Format("ckpt: nothing loaded:", Section{"missing", []string{"b", "a"}}, Section{"unexpected", nil}, Section{"mis-shaped", []string{"c"}})
	want := "ckpt: nothing loaded:\n  2 missing:\n    a\n    b\n  1 mis-shaped:\n    c"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
