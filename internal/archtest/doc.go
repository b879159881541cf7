// Package archtest holds the rules of the package graph as tests: the
// domain (dialogue, workflow, write) imports no transport and no store
// driver, and the command reaches the driver only through the store. It
// has no code of its own and must not grow any.
package archtest
