/// Which simulcast encoding a subscriber wants (the room protocol's `set_quality`). The consumer
/// forwards the largest *active* encoding the preference allows, and falls back to the smallest
/// active one when none does, so a publisher that stops a layer never freezes its subscribers.
public enum LayerPreference: Hashable, Sendable {
    /// The largest encoding (the default).
    case highest
    /// At most the encoding at this position, counted from the smallest (0).
    case position(Int)
    /// At most this picture size, by the sizes the encodings' keyframes announce (VP8, VP9); an
    /// encoding of unknown size fits only when it is the smallest.
    case maxSize(width: Int, height: Int)
}
