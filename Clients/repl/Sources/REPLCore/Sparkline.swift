/// Values drawn as one block character each, ▁ (lowest) to █ (highest).
public enum Sparkline {
    public static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    /// Drawn for NaN and infinities.
    public static let nonFinite: Character = "×"

    /// One character per value, scaled so that `low` is ▁ and `high` is █; values outside clamp.
    /// When `high` is not above `low`, every finite value is drawn mid-height (▄).
    public static func render(_ values: [Float], low: Float, high: Float) -> String {
        String(values.map { value -> Character in
            guard value.isFinite else { return nonFinite }
            guard high > low else { return levels[3] }
            let fraction = (Double(value) - Double(low)) / (Double(high) - Double(low))
            let level = Int((fraction * Double(levels.count)).rounded(.down))
            return levels[min(max(level, 0), levels.count - 1)]
        })
    }

    /// At most `width` values: each covers an equal run of the input and is the element of that run with the
    /// largest magnitude (so a single spike survives), a non-finite element winning over all.
    public static func downsample(_ values: [Float], to width: Int) -> [Float] {
        guard width > 0, values.count > width else { return values }
        return (0..<width).map { bucket in
            let start = bucket * values.count / width
            let end = (bucket + 1) * values.count / width
            var chosen = values[start]
            for value in values[start..<end] {
                if !value.isFinite { return value }
                if abs(value) > abs(chosen) { chosen = value }
            }
            return chosen
        }
    }
}
