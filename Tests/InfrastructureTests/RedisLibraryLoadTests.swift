import Foundation
import Infrastructure
import TestSupport
import Testing

/// Loading a function library keeps the state its Lua code holds: clients that find it missing at
/// the same moment must not reset each other's (the worker's "stock verified" flag lives there).
@Suite("Redis function libraries loaded by many clients at once")
struct RedisLibraryLoadTests {
    static func library(_ name: String) -> RedisFunctionLibrary {
        RedisFunctionLibrary(
            name: name,
            source: """
                #!lua name=\(name)
                local count = 0
                redis.register_function{function_name = '\(name)_count', flags = {'no-writes'},
                  callback = function(keys, args)
                    if args[1] == 'add' then count = count + 1 end
                    return count
                  end}
                """)
    }

    func clients(_ n: Int) throws -> [RedisClient] {
        let e = try TestStack.endpoints()
        return (0..<n).map { _ in RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort)) }
    }

    @Test func clientsFindingALibraryMissingTogetherAllLoadItAndNoneResetsItsState() async throws {
        for round in 0..<5 {
            let name = "flashdeal_race_\(UUID().uuidString.prefix(8).lowercased())_\(round)"
            let library = Self.library(name)
            let all = try clients(8)
            defer { all.forEach { $0.shutdown() } }
            // Every client lists, finds nothing, loads and counts itself in, at about the same
            // moment: a load that replaced the library after another client counted would lose it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in all {
                    group.addTask {
                        try await client.load(library)
                        _ = try await client.fcall("\(name)_count", keys: [], arguments: ["add"])
                    }
                }
                try await group.waitForAll()
            }
            let counted = try await all[0].fcall("\(name)_count", keys: [], arguments: ["get"]).integerValue
            #expect(counted == 8, "round \(round): \(counted ?? -1) of 8 counts survived the loads")
            _ = try await all[0].send("FUNCTION", "DELETE", name)
        }
    }
}
