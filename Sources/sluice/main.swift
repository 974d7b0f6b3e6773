// The `sluice` executable: everything lives in SluiceCLI.

import SluiceCLI

await SluiceCommand.main(arguments: Array(CommandLine.arguments.dropFirst()))
