import ArgumentParser
import Autoscaling
import DealData
import Domain
import Foundation
import Infrastructure

/// `flashdeal autoscale prescale`: a sale's pre-scale window, rendered for the manifests.
struct AutoscaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoscale", abstract: "Autoscaling for a sale (docs/kubernetes.md).",
        subcommands: [Prescale.self, Simulate.self])

    struct Prescale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a deal's pre-scale window as a KEDA cron trigger or a kustomize patch.",
            discussion: """
                The window opens --lead plus --pod-ready before the deal opens and closes --after its \
                end; inside it the ScaledObject keeps at least --replicas replicas (a floor: the \
                reactive triggers can ask for more). The deal's times come from the catalog (MongoDB), \
                or from --opens-at/--ends-at. --format patch (the default) writes a JSON 6902 patch \
                that appends the trigger and the annotations scripts/k8s-check reads to check the \
                window; --format trigger writes the trigger alone.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case patch, trigger }

        @OptionGroup var options: EndpointOptions
        @Option(help: "Deal id (its opening and end are read from the catalog).") var deal: String
        @Option(help: "The opening, ISO 8601 (instead of the catalog's).") var opensAt: String?
        @Option(help: "The end, ISO 8601 (instead of the catalog's).") var endsAt: String?
        @Option(help: "Replicas the sale needs (the floor inside the window).") var replicas: Int
        @Option(help: "From a pod's creation to Ready (image pull, start, probes), e.g. 90s.") var podReady = "2m"
        @Option(help: "Margin before the pod-ready time (HPA sync, scale-up steps, nodes), e.g. 10m.") var lead = "10m"
        @Option(help: "How long the floor stays after the deal's end (the backlog drains), e.g. 15m.") var after = "15m"
        @Option(help: "IANA time zone of the cron fields, e.g. Asia/Seoul.") var timezone = "UTC"
        @Option(help: "The ScaledObject the patch is for (named in its usage comment).") var scaledObject =
            "order-worker"
        @Option(help: "patch or trigger.") var format: Format = .patch

        func run() async throws {
            guard let zone = TimeZone(identifier: timezone) else {
                throw ValidationError("--timezone \(timezone.debugDescription) is not an IANA time zone")
            }
            let (opens, ends) = try await saleTimes()
            let window = PrescaleWindow(
                opensAt: opens, endsAt: ends,
                podReady: try DealInput.duration(podReady, option: "--pod-ready"),
                lead: try DealInput.duration(lead, option: "--lead"),
                after: try DealInput.duration(after, option: "--after"))
            let patch: PrescalePatch
            do { patch = try PrescalePatch(deal: deal, window: window, replicas: replicas, timezone: zone) } catch {
                throw ValidationError(error.description)
            }
            switch format {
            case .patch: print(patch.yaml(scaledObject: scaledObject), terminator: "")
            case .trigger: print(patch.trigger.yaml(), terminator: "")
            }
            if window.start < Date() {
                FileHandle.standardError.write(
                    Data("note: the window has already begun (it opened at \(window.start))\n".utf8))
            }
        }

        /// The opening and end: both given, or read from the catalog.
        func saleTimes() async throws -> (Date, Date) {
            if let opensAt, let endsAt { return (try DealInput.instant(opensAt), try DealInput.instant(endsAt)) }
            guard opensAt == nil, endsAt == nil else {
                throw ValidationError("give both --opens-at and --ends-at, or neither (the catalog's times)")
            }
            let id: DealID
            do { id = try DealID(deal) } catch { throw ValidationError("\(error)") }
            let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: try options.load()))
            defer { mongo.shutdown() }
            guard let found = try await DealCatalog(mongo: mongo).deal(id) else {
                throw ValidationError("no deal \(deal) in the catalog (or give --opens-at and --ends-at)")
            }
            return (found.startsAt, found.endsAt)
        }
    }
}
