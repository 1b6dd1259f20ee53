import Foundation
import Logging
import NIOCore
import Yams

/// `/openapi.json`: docs/openapi.yaml (installed as a resource of this module) converted to JSON once.
enum OpenAPIDocument {
    static func yamlURL() -> URL? {
        // Linux Foundation may treat the bundle's top folder as its resource folder or not: ask both ways.
        Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "yaml")
            ?? [Bundle.module.bundleURL, Bundle.module.resourceURL].compactMap { $0?.appendingPathComponent("Resources/openapi.yaml") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    static func json(logger: Logger) -> ByteBuffer? {
        guard let url = yamlURL(), let text = try? String(contentsOf: url, encoding: .utf8) else {
            logger.error("openapi.yaml is missing from the resource bundle")
            return nil
        }
        do {
            guard let object = try Yams.load(yaml: text) else { return nil }
            let data = try JSONSerialization.data(withJSONObject: normalise(object), options: [.sortedKeys])
            return ByteBuffer(bytes: data)
        } catch {
            logger.error("openapi.yaml does not parse", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Yams yields `[AnyHashable: Any]` and integer-keyed maps (status codes); JSON needs string keys.
    static func normalise(_ value: Any) -> Any {
        switch value {
        case let dictionary as [AnyHashable: Any]:
            var out: [String: Any] = [:]
            for (key, inner) in dictionary { out["\(key.base)"] = normalise(inner) }
            return out
        case let array as [Any]:
            return array.map(normalise)
        default:
            return value
        }
    }
}
