// fuzz-mime: the libFuzzer target for MIMEFuzz (see SluiceFuzz/FuzzDriver.swift).

import SluiceFuzz

FuzzDriver.main { data, size in
    MIMEFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
