// Package testkit is what the tests of Iridium share: polling with a
// deadline instead of sleeping (Eventually), a buffer that a program's
// goroutines may write while a test reads it (Buffer), checks that tests
// leave no goroutines running (CheckGoroutines for one test, Main for a
// package's TestMain), and TCP ports handed out to one test at a time
// (Ports).
//
// It is for tests only: nothing outside a _test.go file imports it.
package testkit
