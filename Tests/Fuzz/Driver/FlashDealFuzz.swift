import Dispatch
import Foundation
import FuzzTargets

#if FUZZING
    import CFuzzerDriver
#endif

/// `flashdeal-fuzz <target> [libFuzzer options…] [corpus dirs…]`; `flashdeal-fuzz seeds DIR` writes
/// the generated seeds (``FuzzTarget/generatedSeeds()``).
///
/// Built by `scripts/fuzz` with `-sanitize=fuzzer,address -DFUZZING`, it hands the arguments to
/// libFuzzer with the target's check as the callback. Built normally (`swift build`), it replays
/// files instead: `flashdeal-fuzz <target> FILE_OR_DIR…` runs each input once and exits 1 on the
/// first finding — how a kept crash input is checked again.
@main
struct FlashDealFuzz {
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == "seeds" {
            for seed in blocking({ await FuzzTarget.generatedSeeds() }) {
                let directory = arguments[2] + "/" + seed.target.rawValue
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: directory + "/" + seed.name, contents: Data(seed.bytes))
            }
            exit(0)
        }
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: flashdeal-fuzz <target> [inputs…]; targets: \(names)\n".utf8))
            exit(2)
        }
        #if FUZZING
            selected = target
            var argv = [arguments[0]] + arguments.dropFirst(2)
            var argc = CInt(argv.count)
            var cStrings = argv.map { strdup($0) } + [nil]
            let status = cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
                var pointer = buffer.baseAddress
                return LLVMFuzzerRunDriver(&argc, &pointer, LLVMFuzzerTestOneInput)
            }
            argv.removeAll()
            exit(status)
        #else
            var failures = 0
            var count = 0
            for path in arguments.dropFirst(2) {
                for file in files(at: path) {
                    guard let data = FileManager.default.contents(atPath: file) else { continue }
                    count += 1
                    let finding = blocking { () async -> FuzzFinding? in
                        do throws(FuzzFinding) { try await target.run(Array(data)) } catch { return error }
                        return nil
                    }
                    if let error = finding {
                        failures += 1
                        print("FINDING \(target.rawValue) \(file): \(error)")
                    }
                }
            }
            print("\(target.rawValue): \(count) inputs replayed, \(failures) findings")
            exit(failures == 0 ? 0 : 1)
        #endif
    }

    nonisolated(unsafe) static var selected: FuzzTarget?

    /// Runs async work from a plain thread (the main thread, libFuzzer's), waiting for it.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        Task {
            result = await body()
            done.signal()
        }
        done.wait()
        return result!
    }

    #if FUZZING
        /// One input for the selected target; a finding stops the process so libFuzzer keeps the input.
        static func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            let target = selected
            let finding = blocking { () async -> FuzzFinding? in
                do throws(FuzzFinding) { try await target?.run(bytes) } catch { return error }
                return nil
            }
            if let finding { fatalError("\(selected?.rawValue ?? "?"): \(finding)") }
            return 0
        }
    #endif

    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }
    }
}

#if FUZZING
    /// libFuzzer's own driver refers to this symbol; the driver above passes the same function.
    @_cdecl("LLVMFuzzerTestOneInput")
    func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        FlashDealFuzz.fuzzOneInput(data, size)
    }
#endif
