import Redis
import Testing

@Suite struct RedisURLTests {
    @Test func fullURL() throws {
        let url = try RedisURL(parsing: "redis://:p%40ss@cache.internal:6380/3")
        #expect(url == RedisURL(host: "cache.internal", port: 6380, password: "p@ss", database: 3))
        #expect(url.description == "redis://:***@cache.internal:6380/3")
    }

    @Test func defaults() throws {
        #expect(try RedisURL(parsing: "redis://localhost") == RedisURL(host: "localhost"))
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6379/") == RedisURL(host: "127.0.0.1"))
        #expect(try RedisURL(parsing: "REDIS://h:1").port == 1)
    }

    @Test func usernameAndPasswordOnlyForms() throws {
        #expect(try RedisURL(parsing: "redis://app:secret@h:7000") == RedisURL(host: "h", port: 7000, username: "app", password: "secret"))
        #expect(try RedisURL(parsing: "redis://secret@h").password == "secret")
    }

    @Test func ipv6() throws {
        let url = try RedisURL(parsing: "redis://[::1]:7001/1")
        #expect(url == RedisURL(host: "::1", port: 7001, database: 1))
        #expect(url.description == "redis://[::1]:7001/1")
    }

    @Test(arguments: [
        ("localhost:6379", "missing scheme"),
        ("http://h:1", "scheme must be redis"),
        ("rediss://h:1", "TLS"),
        ("redis://", "missing host"),
        ("redis://:pw@:6379", "missing host"),
        ("redis://h:0", "port"),
        ("redis://h:65536", "port"),
        ("redis://h:http", "port"),
        ("redis://h:1/x", "database"),
        ("redis://h:1/-1", "database"),
        ("redis://h:1?db=2", "query"),
        ("redis://[::1:6379", "IPv6"),
        ("redis://:%zz@h", "percent-escape"),
    ])
    func badURLs(input: String, mention: String) {
        let error = #expect(throws: RedisError.self) { try RedisURL(parsing: input) }
        #expect(error?.code == .badURL)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func passwordNeverInErrors() {
        let error = #expect(throws: RedisError.self) { try RedisURL(parsing: "redis://:topsecret@h:99999") }
        #expect(error?.message.contains("topsecret") == false)
    }
}
