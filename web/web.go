// Package web holds the embedded templates and static assets of the login,
// account and demo pages and of the messages twofold sends. It holds no logic.
package web

import "embed"

// FS holds templates/ (html/template and text/template sources) and static/.
//
//go:embed templates static
var FS embed.FS
