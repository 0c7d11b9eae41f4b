package repl

import (
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iridium-vm/iridium/vm"
)

// completer adapts Shell.complete to readline's AutoCompleter. readline
// calls it from its own goroutine.
type completer struct{ s *Shell }

// Do returns the endings that complete the word before pos, and the
// length in runes of the part of the word they share.
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	endings, typed := c.s.complete(string(line[:pos]))
	out := make([][]rune, len(endings))
	for i, e := range endings {
		out[i] = []rune(e)
	}
	return out, utf8.RuneCountInString(typed)
}

// complete completes the last word of before: a command name first on the
// line, a mnemonic where an instruction goes, a label after "@", and a
// command's argument (a file path, a job id, a help topic). It returns
// the endings of the candidates and the part of the word they complete.
func (s *Shell) complete(before string) (endings []string, typed string) {
	word := before[strings.LastIndexAny(before, " \t")+1:]
	s.mu.Lock()
	askingPath := s.askingPath
	var labels []string
	if rest, ok := strings.CutPrefix(word, "@"); ok {
		labels = s.words.WithPrefix(rest) // only the labels that match
	}
	s.mu.Unlock()
	if askingPath {
		return completePath(strings.TrimLeftFunc(before, unicode.IsSpace))
	}
	prev := strings.Fields(before[:len(before)-len(word)])
	switch {
	case len(prev) == 0 && strings.HasPrefix(word, "!"):
		return withPrefix(word, s.commandNames(""), " ")
	case len(prev) >= 1 && strings.HasPrefix(prev[0], "!"):
		return s.completeArg(prev, before, word)
	case strings.HasPrefix(word, "@"):
		return withPrefix(word[1:], labels, " ")
	case onlyLabels(prev) && !strings.ContainsAny(word, "$#@'.:"):
		return withPrefix(strings.ToLower(word), mnemonics(), " ")
	}
	return nil, word
}

// completeArg completes an argument of the command prev[0].
func (s *Shell) completeArg(prev []string, before, word string) ([]string, string) {
	c := s.lookupCommand(strings.ToLower(prev[0])) // as runCommand does
	if c == nil || (len(prev) > 1 && !c.rest) {
		return nil, word
	}
	switch c.complete {
	case argPath:
		// The path is the rest of the line past the command name and
		// the white space after it, as runCommand takes it.
		rest := before[strings.Index(before, prev[0])+len(prev[0]):]
		return completePath(strings.TrimLeftFunc(rest, unicode.IsSpace))
	case argTopic:
		return withPrefix(word, append(append(s.commandNames("!"), "instructions"), mnemonics()...), " ")
	case argJob:
		var ids []string
		for _, j := range s.jobs.List() {
			ids = append(ids, j.Name())
		}
		return withPrefix(word, ids, " ")
	case argAll:
		return withPrefix(word, []string{"all"}, " ")
	}
	return nil, word
}

// commandNames returns the names of the commands without the prefix cut.
func (s *Shell) commandNames(cut string) []string {
	names := make([]string, len(s.commands))
	for i, c := range s.commands {
		names[i] = strings.TrimPrefix(c.name, cut)
	}
	return names
}

func mnemonics() []string {
	ins := vm.Instructions()
	names := make([]string, len(ins))
	for i := range ins {
		names[i] = ins[i].Name
	}
	return names
}

// onlyLabels reports whether every word is a label declaration ("name:").
func onlyLabels(words []string) bool {
	for _, w := range words {
		if !strings.HasSuffix(w, ":") {
			return false
		}
	}
	return true
}

// withPrefix returns the endings of the candidates that start with
// prefix, each followed by after.
func withPrefix(prefix string, candidates []string, after string) ([]string, string) {
	var endings []string
	seen := make(map[string]bool)
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) && !seen[c] { // spawn is a command and an instruction
			seen[c] = true
			endings = append(endings, c[len(prefix):]+after)
		}
	}
	return endings, prefix
}

// completePath completes a file path: directories get a "/" so that Tab
// can go on into them; hidden files show only when asked for with ".".
func completePath(path string) ([]string, string) {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dirOrDot(dir))
	if err != nil {
		return nil, base
	}
	var endings []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		ending := name[len(base):]
		if isDir(dir, e) {
			ending += "/"
		}
		endings = append(endings, ending)
	}
	return endings, base
}

func dirOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// isDir reports whether the entry is a directory, following a symlink.
func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dirOrDot(dir), e.Name()))
	return err == nil && fi.IsDir()
}
