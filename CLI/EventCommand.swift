import ArgumentParser
import Domain
import Foundation

/// `flashdeal event check`: is this JSON a valid Flash Deal event (the contract on Kafka)?
struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event", abstract: "Work with domain events.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Validate events (one JSON object per line) against the event contract; exit 1 on the first bad one.")

        @Argument(help: "A file of JSON lines, or - for standard input.") var file = "-"

        func run() throws {
            let text: String
            if file == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ValidationError("cannot read \(file)")
                }
                text = contents
            }
            var count = 0
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                do {
                    let event = try DomainEvent.decode(String(line))
                    count += 1
                    print("line \(index + 1): ok \(event.type.rawValue) \(event.eventId.rawValue)")
                } catch {
                    print("line \(index + 1): \(error)")
                    throw ExitCode(1)
                }
            }
            print("\(count) valid event(s)")
        }
    }
}
