/// Why a process cannot start with its configuration: a value that does not parse or lies outside its
/// range, a missing one, an unreadable or malformed file. The one configuration error of every
/// process (environment variables, the gateway's YAML file, logging, the worker's settings):
/// `setting` names the variable or the file's dotted path when there is one.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let setting: String?
    public let description: String

    public init(_ description: String, setting: String? = nil) {
        self.description = description
        self.setting = setting
    }
}
