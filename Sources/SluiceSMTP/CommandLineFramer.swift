// CommandLineFramer: splits command-phase input into lines. A line ends with
// LF (an optional CR before it is removed). Lines longer than the limit are
// discarded up to their end and reported once, so memory stays bounded.

import NIOCore

public struct CommandLineFramer: Sendable {
    public enum Frame: Equatable, Sendable {
        case line([UInt8])
        case tooLong
    }

    public let maxLength: Int
    private var discarding = false

    public init(maxLength: Int) { self.maxLength = maxLength }

    public mutating func next(_ input: inout ByteBuffer) -> Frame? {
        while true {
            let view = input.readableBytesView
            guard let lf = view.firstIndex(of: 10) else {
                if view.count > maxLength {
                    discarding = true
                    input.moveReaderIndex(forwardBy: view.count)
                }
                return nil
            }
            let length = lf - view.startIndex
            if discarding || length > maxLength + 1 {
                input.moveReaderIndex(forwardBy: length + 1)
                discarding = false
                return .tooLong
            }
            var line = Array(view[view.startIndex..<lf])
            if line.last == 13 { line.removeLast() }
            input.moveReaderIndex(forwardBy: length + 1)
            return .line(line)
        }
    }
}
