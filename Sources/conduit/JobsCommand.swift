import ArgumentParser
import Foundation
import NIOHTTP1

/// `conduit jobs`: the system jobs of a running server, through its Web API.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, show, cancel, pause, resume and retry system jobs (asyncoperation) of a running server.",
        discussion: """
            Talks to the Web API of 'conduit serve' (--url, --key-file). Tables by default, JSON with --json. \
            Exit code 2 with one line on standard error when the server refuses a request (it says why).
            """,
        subcommands: [List.self, Show.self, Cancel.self, Pause.self, Resume.self, Retry.self]
    )

    /// The statuses by the names the commands take.
    static let statuses: [(name: String, code: Int)] = [
        ("ready", 0), ("waiting", 10), ("in-progress", 20), ("pausing", 21), ("canceling", 22), ("succeeded", 30),
        ("failed", 31), ("canceled", 32),
    ]

    static func statusName(_ code: Int?) -> String {
        guard let code else { return "?" }
        return statuses.first { $0.code == code }?.name ?? String(code)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List system jobs, newest first.",
            discussion: "Example: conduit jobs list --status failed --table contact --since 2h"
        )

        @OptionGroup var server: ServerOptions
        @Option(help: "ready, waiting, in-progress, pausing, canceling, succeeded, failed or canceled.")
        var status: String?
        @Option(help: "Only the jobs of this step (sdkmessageprocessingstepid).") var step: String?
        @Option(help: "Only jobs about rows of this table (logical name).") var table: String?
        @Option(help: "Only jobs of this message (Create, Update, …).") var message: String?
        @Option(help: "Only jobs created since: a duration (30m, 2h, 7d) or an ISO 8601 time.") var since: String?
        @Option(help: "At most this many jobs.") var top = 50
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            guard top > 0 else { throw ValidationError("--top must be positive.") }
            if let status, JobsCommand.statuses.first(where: { $0.name == status }) == nil {
                throw ValidationError(
                    "--status must be one of \(JobsCommand.statuses.map(\.name).joined(separator: ", ")); not '\(status)'."
                )
            }
            if let step, UUID(uuidString: step) == nil {
                throw ValidationError("--step must be a GUID, not '\(step)'.")
            }
            if let since, JobsCommand.time(since) == nil {
                throw ValidationError("--since must be a duration (30m, 2h, 7d) or an ISO 8601 time, not '\(since)'.")
            }
        }

        func run() async throws {
            var filters: [String] = []
            if let status, let code = JobsCommand.statuses.first(where: { $0.name == status })?.code {
                filters.append("statuscode eq \(code)")
            }
            if let step { filters.append("_owningextensionid_value eq \(step)") }
            if let table { filters.append("primaryentitytype eq '\(table.replacingOccurrences(of: "'", with: "''"))'") }
            if let message {
                filters.append("messagename eq '\(message.replacingOccurrences(of: "'", with: "''"))'")
            }
            if let since, let date = JobsCommand.time(since) {
                filters.append("createdon ge \(ISO8601DateFormatter().string(from: date))")
            }
            var path =
                "asyncoperations?$select=name,statuscode,primaryentitytype,messagename,retrycount,createdon,postponeuntil,completedon,message&$orderby=createdon%20desc&$top=\(top)"
            if !filters.isEmpty { path += "&$filter=" + queryEncoded(filters.joined(separator: " and ")) }
            let rows = try await WebAPIClient.with(server) { try await $0.rows(path) }
            if json {
                try JobsCommand.printJSON(rows)
                return
            }
            let lines = rows.map { row -> [String] in
                let status = row["statuscode"] as? Int
                var detail = ""
                if status == 10, let until = row["postponeuntil"] as? String { detail = "retry at \(until)" }
                if let text = row["message"] as? String, status == 31 || status == 10 {
                    detail += (detail.isEmpty ? "" : ": ") + String(text.prefix(70))
                }
                return [
                    row["asyncoperationid"] as? String ?? "", JobsCommand.statusName(status),
                    row["name"] as? String ?? "", row["primaryentitytype"] as? String ?? "",
                    row["messagename"] as? String ?? "", String(row["retrycount"] as? Int ?? 0),
                    row["createdon"] as? String ?? "", detail,
                ]
            }
            print(formatTable(["ID", "STATUS", "NAME", "TABLE", "MESSAGE", "RETRIES", "CREATED", "DETAIL"], lines))
            print("\(rows.count) job\(rows.count == 1 ? "" : "s")\(rows.count == top ? " (more with --top)" : "")")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one system job, with its execution context.")

        @OptionGroup var server: ServerOptions
        @Argument(help: "The job's id (asyncoperationid).") var id: String
        @Flag(help: "Print JSON instead of a list.") var json = false

        func validate() throws {
            guard UUID(uuidString: id) != nil else { throw ValidationError("The job id must be a GUID, not '\(id)'.") }
        }

        func run() async throws {
            let row = try await WebAPIClient.with(server) { try await $0.send(.GET, "asyncoperations(\(id))") }
            guard let job = row as? [String: Any] else { throw CommandFailure("the server sent no job") }
            if json {
                try JobsCommand.printJSON(job)
                return
            }
            let fields = [
                "asyncoperationid", "name", "statecode", "statuscode", "operationtype", "messagename",
                "primaryentitytype", "_regardingobjectid_value", "_owningextensionid_value", "correlationid", "depth",
                "retrycount", "errorcode", "message", "friendlymessage", "postponeuntil", "createdon", "startedon",
                "completedon", "executiontimespan", "sequence", "hostid",
            ]
            for field in fields {
                var value = job[field].map { "\($0)" } ?? ""
                if value == "<null>" { value = "" }
                if field == "statuscode" { value += " (\(JobsCommand.statusName(job[field] as? Int)))" }
                print(field.padding(toLength: 26, withPad: " ", startingAt: 0) + value)
            }
            if let data = job["data"] as? String, !data.isEmpty {
                print("\nexecution context (data):")
                if let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)),
                    let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
                {
                    print(String(decoding: pretty, as: UTF8.self))
                } else {
                    print(data)
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel jobs (a running job stops after its run).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job ids.") var ids: [String]
        func validate() throws { try JobsCommand.validate(ids) }
        func run() async throws {
            try await JobsCommand.patch(server, ids, ["statecode": 3, "statuscode": 32], done: "canceled")
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause Ready or running jobs until resumed.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job ids.") var ids: [String]
        func validate() throws { try JobsCommand.validate(ids) }
        func run() async throws {
            try await JobsCommand.patch(server, ids, ["statecode": 1, "statuscode": 10], done: "paused")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume Waiting (paused or retrying) jobs now.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job ids.") var ids: [String]
        func validate() throws { try JobsCommand.validate(ids) }
        func run() async throws {
            try await JobsCommand.patch(server, ids, ["statecode": 0], done: "resumed")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retry Waiting or Failed jobs now.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job ids.") var ids: [String]
        func validate() throws { try JobsCommand.validate(ids) }
        func run() async throws {
            try await WebAPIClient.with(server) { client in
                for id in ids {
                    try await client.send(.POST, "asyncoperations(\(id))/Microsoft.Dynamics.CRM.conduit_RetryNow")
                    print("\(id) retried")
                }
            }
        }
    }

    static func validate(_ ids: [String]) throws {
        guard !ids.isEmpty else { throw ValidationError("Name at least one job id.") }
        if let bad = ids.first(where: { UUID(uuidString: $0) == nil }) {
            throw ValidationError("Job ids are GUIDs; '\(bad)' is not one.")
        }
    }

    static func patch(_ server: ServerOptions, _ ids: [String], _ body: [String: Any], done: String) async throws {
        try await WebAPIClient.with(server) { client in
            for id in ids {
                do {
                    try await client.send(.PATCH, "asyncoperations(\(id))", body: body)
                } catch let failure as CommandFailure {
                    throw CommandFailure("\(id): \(failure.description)")
                }
                print("\(id) \(done)")
            }
        }
    }

    /// `30m`, `2h`, `7d` before now, or an ISO 8601 time.
    static func time(_ text: String) -> Date? {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = amount
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86400
        default: return nil
        }
        return Date().addingTimeInterval(-seconds)
    }

    static func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
