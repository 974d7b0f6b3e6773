// fuzz-smtp: the libFuzzer target for SMTPSessionFuzz (see SluiceFuzz/FuzzDriver.swift).

import SluiceFuzz

FuzzDriver.main { data, size in
    SMTPSessionFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
