import Foundation
import TestSupport
import Testing

/// Every relative link in the README and `docs/` names a file that exists, and every `#anchor` a
/// heading of that file (GitHub's rule: lower case, punctuation dropped, spaces as hyphens): a
/// renamed heading or a moved file fails here instead of leaving a dead link.
@Suite("Documentation links")
struct DocumentationLinkTests {
    static let root = TestStack.root

    static func anchors(_ text: String) -> Set<String> {
        var anchors: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
            let kept = title.unicodeScalars.filter {
                CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == " " || $0 == "_"
            }
            anchors.insert(String(String.UnicodeScalarView(kept)).replacingOccurrences(of: " ", with: "-"))
        }
        return anchors
    }

    @Test func everyRelativeLinkAndAnchorResolves() throws {
        let docs = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/docs")
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        let files = ["README.md"] + docs.sorted()
        let link = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        var checked = 0
        for file in files {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            let directory = (file as NSString).deletingLastPathComponent
            for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let target = String(text[Range(match.range(at: 1), in: text)!])
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let path = parts[0].isEmpty ? file : ((directory as NSString).appendingPathComponent(String(parts[0])))
                let resolved = (Self.root + "/" + path as NSString).standardizingPath
                #expect(FileManager.default.fileExists(atPath: resolved), "\(file): \(target) names no file")
                if parts.count == 2, resolved.hasSuffix(".md"),
                    let linked = try? String(contentsOfFile: resolved, encoding: .utf8)
                {
                    let found = Self.anchors(linked).contains(String(parts[1]))
                    #expect(found, "\(file): \(target) names no heading")
                }
                checked += 1
            }
        }
        #expect(checked > 50, "only \(checked) links found")
    }
}
