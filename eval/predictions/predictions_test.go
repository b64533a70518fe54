package predictions

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseAndErrors(t *testing.T) {
	rows, err := Parse(strings.NewReader("id,pred,mos,extra\na,3.5,4,x\nb,1,2,y\n"), "p.csv")
	if err != nil || len(rows) != 2 || rows[1].Pred != 1 || rows[0].MOS != 4 {
		t.Fatalf("%+v %v", rows, err)
	}
	for in, want := range map[string]string{
		"id,pred\na,1\n":              `missing column "mos"`,
		"id,pred,mos\na,x,1\n":        `p.csv:2: field "pred"`,
		"id,pred,mos\na,1,1\na,2,2\n": `p.csv:3: duplicate id "a"`,
		"id,pred,mos\n,1,1\n":         "p.csv:2: empty id",
		"id,pred,mos\na,NaN,1\n":      "not a finite number",
		"id,pred,mos\n":               "no prediction rows",
		"id,pred,mos\na,1\n":          `p.csv:2: missing field "mos"`,
	} {
		if _, err := Parse(strings.NewReader(in), "p.csv"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

func TestAlignAndWrite(t *testing.T) {
	a := []Row{{"x", 1, 3}, {"y", 2, 4}}
	b := []Row{{"y", 5, 4}, {"x", 6, 3}}
	got, err := Align(a, b, "A", "B")
	if err != nil || got[0].ID != "x" || got[0].Pred != 6 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := Align(a, b[:1], "A", "B"); err == nil || !strings.Contains(err.Error(), "different ids") {
		t.Fatalf("missing id: %v", err)
	}
	if _, err := Align(a, []Row{{"y", 5, 4}, {"x", 6, 2}}, "A", "B"); err == nil || !strings.Contains(err.Error(), "mos") {
		t.Fatalf("mos mismatch: %v", err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(&buf, "w")
	if err != nil || len(back) != 2 || back[1] != a[1] {
		t.Fatalf("round trip %+v %v", back, err)
	}
}
