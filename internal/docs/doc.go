// Package docs holds the tests of the repository's Markdown: every
// relative link and anchor of the README and docs/ resolves, every make
// target they name exists, the README names every command, and the front
// door stays short.
//
// Tests only.
package docs
