package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/twofold-id/twofold/storage"
)

// checkURLText refuses a path or query that no database column can hold
// (storage.ValidText), naming the parameter: ids in paths and filters in
// queries are looked up as they come.
func checkURLText(r *http.Request) error {
	if !storage.ValidText(r.URL.Path) {
		return invalid("", "the path is not UTF-8 text or holds NUL")
	}
	if name, bad := storage.InvalidField(r.URL.Query()); bad {
		return invalid(name, "must be UTF-8 text without NUL")
	}
	return nil
}

// errStop ends a walk over a document the decoder will refuse anyway.
var errStop = errors.New("stop")

// checkJSON refuses, naming the key, what encoding/json would let through
// silently: a key given twice in one object (it keeps the last, so what a
// reviewer or a proxy read first is not what is applied), bytes that are
// not UTF-8 (it would replace them) and strings holding NUL (which
// PostgreSQL refuses). Syntax errors are left to the decoder, whose
// message says where they are.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return invalid("", "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := walkJSON(dec, "", 0); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

// walkJSON reads one value; path names it in errors (keys joined by dots).
func walkJSON(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil || depth > 64 {
		return errStop
	}
	switch t := tok.(type) {
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			return invalid(path, "must not contain NUL")
		}
	case json.Delim:
		return walkContainer(dec, t, path, depth)
	}
	return nil
}

// walkContainer reads the members of an object or array whose opening
// delimiter was just read, and its closing one.
func walkContainer(dec *json.Decoder, open json.Delim, path string, depth int) error {
	seen := map[string]bool{}
	for dec.More() {
		name := path
		if open == '{' {
			tok, err := dec.Token()
			key, ok := tok.(string)
			if err != nil || !ok {
				return errStop
			}
			name = joinKey(path, key)
			if strings.IndexByte(key, 0) >= 0 {
				return invalid("", "a key holds NUL")
			}
			if seen[key] {
				return invalid(name, "given more than once")
			}
			seen[key] = true
		}
		if err := walkJSON(dec, name, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return errStop
	}
	return nil
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
