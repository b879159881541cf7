// Package pattern parses and evaluates the STIX 2.1 patterning language
// (STIX 2.1 part 9): the pattern of an indicator, matched against
// observed-data.
//
// Parse turns a pattern into a syntax tree, Check applies the stricter
// rules of the OASIS pattern validator on top of the grammar, and Compile
// prepares a pattern for matching; (*Pattern).Match decides whether a set
// of observations (observed-data with their cyber-observable objects)
// matches it, with the semantics of the OASIS reference matcher
// (cti-pattern-matcher). docs/design/pattern.md says where and why this
// package departs from it.
//
// The package must not read files, open a database or talk to the
// network: it knows patterns and the JSON of observations, nothing of
// where they come from.
package pattern
