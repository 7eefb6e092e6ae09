package fxforge_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// documents are the pages whose Go snippets about the fx API, resolution,
// guards and views must be copies of compiled code.
var documents = []string{
	"../README.md",
	"../docs/getting-started.md",
	"../docs/websockets.md",
	"../docs/identity.md",
	"../docs/architecture.md",
}

// snippetTopics mark a snippet that must come from compiled code.
var snippetTopics = regexp.MustCompile(`fxforge\.|Resolve\[|Resolvable|NewResolver|WithGuards|\.Subset\(|WithConfig|WithAuth`)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// normalize drops blank and comment-only lines and collapses white space,
// so that a snippet matches the code it was copied from whatever its
// indentation, alignment and doc comments.
func normalize(src string) string {
	var out []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// compiledSources returns the normalized text of every example test and
// example program in the repository.
func compiledSources(t *testing.T) []string {
	t.Helper()
	var srcs []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		name := d.Name()
		isExample := strings.HasPrefix(name, "example") && strings.HasSuffix(name, "_test.go")
		isProgram := strings.Contains(filepath.ToSlash(path), "/examples/") && strings.HasSuffix(name, ".go")
		if d.IsDir() || !(isExample || isProgram) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		srcs = append(srcs, normalize(string(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// TestDocSnippetsAreCompiledCode checks that every Go snippet of the guides
// that shows the fx API, resolution, guards or views is a copy of code in an
// example test or an example program, which the build compiles and go test
// runs: a snippet cannot drift from the API.
func TestDocSnippetsAreCompiledCode(t *testing.T) {
	srcs := compiledSources(t)
	for _, doc := range documents {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goBlock.FindAllStringSubmatch(string(b), -1) {
			snippet := m[1]
			if !snippetTopics.MatchString(snippet) {
				continue
			}
			want := normalize(snippet)
			found := false
			for _, src := range srcs {
				if strings.Contains(src, want) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: this snippet is in no example test or example program; copy it from compiled code:\n%s", doc, snippet)
			}
		}
	}
}
