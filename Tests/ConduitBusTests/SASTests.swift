import ConduitBus
import Testing

@Suite("SAS tokens, rules and connection strings")
struct SASTests {
    static let now: Int64 = 1_795_566_000

    @Test("the signature matches the reference test vector byte for byte")
    func testVector() throws {
        let token = SASToken.make(
            resource: "sb://127.0.0.1:5694/eh1",
            keyName: "rule",
            key: "anything",
            expiry: 1_795_566_621
        )
        #expect(token.encodedResource == "sb%3A%2F%2F127.0.0.1%3A5694%2Feh1")
        #expect(token.signature == "ud55zKKo4eSSMZtFKZA1VpKWg9hIk6cjZpHYfKqPUM8=")
        #expect(
            token.headerValue
                == "SharedAccessSignature sr=sb%3A%2F%2F127.0.0.1%3A5694%2Feh1&sig=ud55zKKo4eSSMZtFKZA1VpKWg9hIk6cjZpHYfKqPUM8%3D&se=1795566621&skn=rule"
        )
        let parsed = try SASToken(parsing: token.headerValue)
        #expect(parsed == token)
        #expect(parsed.isSigned(with: "anything"))
        #expect(!parsed.isSigned(with: "something else"))
    }

    @Test("fields in any order, names in any case; lower-case hex in sr still verifies")
    func parsingVariants() throws {
        let token = SASToken.make(resource: "sb://ns/q1", keyName: "Root", key: "k", expiry: 99)
        let shuffled =
            "sig=\(SASToken.make(resource: "sb://ns/q1", keyName: "Root", key: "k", expiry: 99).headerValue.split(separator: "sig=")[1].split(separator: "&")[0])&SE=99&skn=Root&SR=sb%3a%2f%2fns%2fq1"
        let parsed = try SASToken(parsing: shuffled)
        #expect(parsed.resource == "sb://ns/q1")
        #expect(parsed.isSigned(with: "k"))
        #expect(parsed.expiry == token.expiry)
        let errors: [(String, String)] = [
            ("SharedAccessSignature sig=x&se=1&skn=a", "no resource"),
            ("SharedAccessSignature sr=a&se=1&skn=a", "no signature"),
            ("SharedAccessSignature sr=a&sig=x&se=soon&skn=a", "no valid expiry"),
            ("SharedAccessSignature sr=a&sig=x&se=1", "names no key"),
            ("SharedAccessSignature sr", "has no '='"),
        ]
        for (text, problem) in errors {
            let error = #expect(throws: SASTokenError.self) { try SASToken(parsing: text) }
            #expect(error?.message.contains(problem) == true, "\(text): \(error?.message ?? "")")
        }
    }

    @Test("authorization: 401 for missing, forged, expired or out-of-scope tokens; 403 for a missing right")
    func authorize() throws {
        let root = AuthorizationRule(
            keyName: "RootManageSharedAccessKey",
            primaryKey: "p1",
            secondaryKey: "s1",
            rights: [.manage]
        )
        let sender = AuthorizationRule(keyName: "sender", primaryKey: "p2", secondaryKey: "s2", rights: [.send])
        let authorizer = SASAuthorizer(rules: [root, sender])
        let resource = "sb://localhost/orders"
        func token(
            _ rule: String,
            _ key: String,
            _ scope: String = "sb://localhost/orders",
            expiry: Int64 = Self.now + 3600
        ) -> String {
            SASToken.make(resource: scope, keyName: rule, key: key, expiry: expiry).headerValue
        }
        #expect(root.rights == [.manage, .send, .listen])
        #expect(
            try authorizer.authorize(
                token("RootManageSharedAccessKey", "p1"),
                resource: resource,
                right: .listen,
                now: Self.now
            ) == root
        )
        // The secondary key and a namespace-wide scope are fine too; so is another scheme for the same resource.
        #expect(
            try authorizer.authorize(
                token("sender", "s2", "sb://localhost"),
                resource: resource,
                right: .send,
                now: Self.now
            ) == sender
        )
        #expect(
            try authorizer.authorize(
                token("sender", "p2", "https://LOCALHOST/orders/"),
                resource: resource + "/messages",
                right: .send,
                now: Self.now
            ) == sender
        )

        let cases: [(String?, AccessRight, Int, String)] = [
            (nil, .send, 401, "No SharedAccessSignature token"),
            ("Bearer abc", .send, 401, "malformed"),
            (token("nobody", "p1"), .send, 401, "no rule of this entity has"),
            (token("sender", "wrong"), .send, 401, "does not match"),
            (token("sender", "p2", expiry: Self.now - 5), .send, 401, "expired 5 s ago"),
            (token("sender", "p2", "sb://localhost/other"), .send, 401, "does not cover"),
            (token("sender", "p2", "sb://localhost/orders-archive"), .send, 401, "does not cover"),
            (token("sender", "p2"), .listen, 403, "needs Listen"),
        ]
        for (header, right, status, text) in cases {
            let error = #expect(throws: AuthorizationError.self) {
                try authorizer.authorize(header, resource: resource, right: right, now: Self.now)
            }
            #expect(error?.httpStatus == status, "\(header ?? "nil")")
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "") should say \(text)")
        }
    }

    @Test("connection strings as the SDKs parse them")
    func connectionStrings() throws {
        let emulator = try ConnectionString(
            parsing:
                "Endpoint=sb://127.0.0.1:5672/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abc=;UseDevelopmentEmulator=true;"
        )
        #expect(emulator.host == "127.0.0.1" && emulator.port == 5672)
        #expect(emulator.keyName == "RootManageSharedAccessKey" && emulator.key == "abc=")
        #expect(emulator.useDevelopmentEmulator)
        let azure = try ConnectionString(
            parsing:
                "endpoint=sb://ns.servicebus.windows.net/;sharedaccesskeyname=r;sharedaccesskey=k;EntityPath=q1;UseDevelopmentEmulator=True"
        )
        #expect(azure.host == "ns.servicebus.windows.net" && azure.port == nil && azure.entityPath == "q1")
        #expect(!azure.useDevelopmentEmulator)
        let signed = try ConnectionString(
            parsing: "Endpoint=sb://ns/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=c"
        )
        #expect(signed.sharedAccessSignature?.hasPrefix("SharedAccessSignature sr=a") == true)
        let bad: [(String, String)] = [
            ("SharedAccessKeyName=a;SharedAccessKey=b", "no Endpoint"),
            ("Endpoint=sb://ns/;SharedAccessKeyName=a", "needs SharedAccessKeyName and SharedAccessKey"),
            ("Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=b;SharedAccessSignature=x", "both"),
            ("Endpoint=sb://ns:99999/;SharedAccessKeyName=a;SharedAccessKey=b", "port"),
            ("Endpoint=sb:///;SharedAccessKeyName=a;SharedAccessKey=b", "no host"),
            ("Endpoint", "not a key=value pair"),
        ]
        for (text, problem) in bad {
            let error = #expect(throws: ConnectionStringError.self) { try ConnectionString(parsing: text) }
            #expect(error?.message.contains(problem) == true, "\(text): \(error?.message ?? "")")
        }
    }
}
