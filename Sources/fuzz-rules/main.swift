// fuzz-rules: the libFuzzer target for RulesFuzz (see SluiceFuzz/FuzzDriver.swift).

import SluiceFuzz

/// The entry point libFuzzer's runtime names (and calls through the driver).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RulesFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

FuzzDriver.main(fuzzOne)
