// The declaration in include/clibfuzzer.h is all this module provides; the definition comes
// from libFuzzer's runtime in fuzz builds. SwiftPM needs a source file for a C target.
