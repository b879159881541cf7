// Package dialogue holds Parley's domain: the types every part of a node
// shares (collections, stored STIX objects, users, TAXII status resources),
// the service interfaces the stores implement, and the one vocabulary of
// error kinds.
//
// It must not import a database driver, net/http or any other package of
// this module: storage and transport packages depend on it, never the
// reverse.
package dialogue
