/// A plain-text table: the first `leftAligned` (text) columns left-aligned, the numbers right-aligned.
struct TextTable {
    let header: [String]
    let leftAligned: Int
    var rows: [[String]] = []

    init(leftAligned: Int = 1, _ header: String...) {
        self.header = header
        self.leftAligned = leftAligned
    }

    mutating func add(_ cells: [String]) { rows.append(cells) }

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in
            all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        return all.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column < leftAligned ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }
}

/// `12,345`.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return (value < 0 ? "-" : "") + out
}

/// `12.3%` of `total`.
func percent(_ part: Int, of total: Int) -> String {
    guard total > 0 else { return "-" }
    let tenths = (part * 1000 + total / 2) / total
    return "\(tenths / 10).\(tenths % 10)%"
}
