// fuzz-rules: the libFuzzer target for RulesFuzz (see SluiceFuzz/FuzzDriver.swift).

import SluiceFuzz

FuzzDriver.main { data, size in
    RulesFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
