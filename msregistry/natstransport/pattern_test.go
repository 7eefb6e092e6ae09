package natstransport_test

import (
	"testing"

	"github.com/fxforge/fxforge/msregistry/natstransport"
)

// subjectCases are patterns and the subjects NestJS's
// transformPatternToRoute makes of them; the NestJS interop test checks the
// same table against NestJS itself.
var subjectCases = []struct{ pattern, subject string }{
	{"app.info", "app.info"},
	{"time.us.*", "time.us.*"},
	{`{"cmd":"object.pattern"}`, `{"cmd":"object.pattern"}`},
	{`{ "role": "math", "cmd": "sum" }`, `{"cmd":"sum","role":"math"}`},
	{`{"b":1,"a":{"d":true,"c":null}}`, `{"a":{"c":null,"d":true},"b":1}`},
	{`{"n":1.50,"big":1e21,"small":1.5e-7,"neg":-0,"int":100}`, `{"big":1e+21,"int":100,"n":1.5,"neg":0,"small":1.5e-7}`},
	{`{"list":["x",2]}`, `{"list":{"0":"x","1":2}}`},
	{`{"q":"say \"hi\"","path":"a\\b"}`, `{"path":"a\\b","q":"say \"hi\""}`},
	{`{"B":1,"a":2,"_c":3,"A":4,"b1":5,"b-2":6}`, `{"_c":3,"a":2,"A":4,"B":1,"b-2":6,"b1":5}`},
	{`{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}`, `{"a":{"b":{"c":{"d":{"e":{"f":[MAX_DEPTH_REACHED]}}}}}}`},
}

func TestSubjectNormalisesObjectPatternsAsNestJSDoes(t *testing.T) {
	for _, tc := range subjectCases {
		got, err := natstransport.Subject(tc.pattern)
		if err != nil {
			t.Fatalf("Subject(%s): %v", tc.pattern, err)
		}
		if got != tc.subject {
			t.Errorf("Subject(%s)\n got %s\nwant %s", tc.pattern, got, tc.subject)
		}
	}
}

func TestSubjectRefusesObjectPatternsThatAreNotJSON(t *testing.T) {
	for _, p := range []string{`{cmd:"x"}`, `{"cmd":"x"} trailing`, `{`} {
		if _, err := natstransport.Subject(p); err == nil {
			t.Errorf("Subject(%s) accepted", p)
		}
	}
}
