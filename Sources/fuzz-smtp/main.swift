// fuzz-smtp: the libFuzzer target for SMTPSessionFuzz (see SluiceFuzz/FuzzDriver.swift).

import SluiceFuzz

/// The entry point libFuzzer's runtime names (and calls through the driver).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SMTPSessionFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

FuzzDriver.main(fuzzOne)
