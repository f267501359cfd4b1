//go:build !race

package frame

import (
	"strings"
	"testing"
)

func TestJSONAllocs(t *testing.T) {
	data := []byte(`{"msg":"hi","n":1,"list":[1,2,3,{"k":"v"}],"s":"a\nb"}`)
	dst := make([]byte, 0, 4096)
	typ := "hello\u2028\x01\"<>"

	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONEvent(dst[:0], typ, data)
	}); n != 0 {
		t.Errorf("AppendJSONEvent: %v allocs/op, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONEvent(dst[:0], "hello", nil)
	}); n != 0 {
		t.Errorf("AppendJSONEvent without data: %v allocs/op, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONString(dst[:0], "bad\xffutf8\x1f")
	}); n != 0 {
		t.Errorf("AppendJSONString: %v allocs/op, want 0", n)
	}

	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONRequest(dst[:0], typ, 4294967295, data)
	}); n != 0 {
		t.Errorf("AppendJSONRequest: %v allocs/op, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONReply(dst[:0], typ, 4294967295, data, "")
	}); n != 0 {
		t.Errorf("AppendJSONReply: %v allocs/op, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendJSONReply(dst[:0], typ, 1, nil, "division by zero: \"x\"\n\xff")
	}); n != 0 {
		t.Errorf("AppendJSONReply with error: %v allocs/op, want 0", n)
	}

	frames := map[string][]byte{
		"request":                      AppendJSONRequest(nil, "sum", 4294967295, data),
		"reply":                        AppendJSONReply(nil, "sum", 7, data, ""),
		"error reply":                  AppendJSONReply(nil, "sum", 7, nil, "not a number"),
		"escaped error reply":          AppendJSONReply(nil, "sum", 7, nil, "bad \"x\"\n\u00e9"),
		"escaped type and error reply": []byte(`{"type":"s\u0075m","data":{},"replyTo":7,"error":"\u0062ad\n"}`),
		"typical":                      AppendJSONEvent(nil, "hello", data),
		"no data":                      []byte(`{"type":"hello"}`),
		"escaped type":                 []byte(`{"type":"h\u00e9llo\n\ud83d\ude00","data":{"a":[1,2,{"b":null}]}}`),
		"escaped keys":                 []byte(`{"t\u0079pe":"x","d\u0061ta":[true]}`),
		"reserved ok":                  []byte(`{"type":"message","data":"hello world"}`),
		"deep":                         []byte(`{"type":"a","data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`),
	}
	for name, frame := range frames {
		p := JSONParser{Options: JSONOptions{Reserved: ReservedLifecycle}}
		if _, err := p.Parse(frame); err != nil { // warm-up sizes the scratch
			t.Fatalf("%s: %v", name, err)
		}
		if n := testing.AllocsPerRun(100, func() {
			ev, err := p.Parse(frame)
			if err != nil || len(ev.Type) == 0 || (ev.ReplyTo != 0) != strings.Contains(name, "reply") {
				t.Fatalf("%s: %v", name, err)
			}
		}); n != 0 {
			t.Errorf("Parse %s: %v allocs/op, want 0", name, n)
		}
	}

	// A deep MaxDepth sizes its bit stack once, in the warm-up call.
	p := JSONParser{Options: JSONOptions{MaxDepth: 5000}}
	deep := []byte(`{"type":"a","data":` + strings.Repeat("[", 4000) + strings.Repeat("]", 4000) + `}`)
	if _, err := p.Parse(deep); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := p.Parse(deep); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse deep: %v allocs/op, want 0", n)
	}
}

func TestJSONAllocsValidJSON(t *testing.T) {
	b := []byte(`{"msg":"hi","n":[1,2,3],"s":"é"}`)
	if n := testing.AllocsPerRun(100, func() { ValidJSON(b) }); n != 0 {
		t.Fatalf("ValidJSON: %v allocations", n)
	}
}
